"""Farms, houses and controllers."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from api.db import AsyncConnection

Row = dict[str, Any]


async def list_farms(connection: AsyncConnection, farm_ids: list[str]) -> list[Row]:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT farm_id, name, created_at, updated_at FROM farms"
            " WHERE farm_id = ANY(%s) ORDER BY farm_id",
            (farm_ids,),
        )
        return await cursor.fetchall()


async def get_farm(connection: AsyncConnection, farm_id: str) -> Row | None:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT farm_id, name, created_at, updated_at FROM farms WHERE farm_id = %s", (farm_id,)
        )
        return await cursor.fetchone()


async def list_houses(connection: AsyncConnection, farm_ids: list[str]) -> list[Row]:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT farm_id, house_number, name FROM houses"
            " WHERE farm_id = ANY(%s) ORDER BY farm_id, house_number",
            (farm_ids,),
        )
        return await cursor.fetchall()


async def get_house(connection: AsyncConnection, farm_id: str, house_number: int) -> Row | None:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT farm_id, house_number, name FROM houses WHERE farm_id = %s AND house_number = %s",
            (farm_id, house_number),
        )
        return await cursor.fetchone()


_CONTROLLER_COLUMNS = (
    "controller_id, farm_id, house_number, connection_status, growth_day, controller_time,"
    " last_status_at, last_reading_at"
)


async def list_controllers(
    connection: AsyncConnection, farm_ids: list[str], house_number: int | None
) -> list[Row]:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            f"SELECT {_CONTROLLER_COLUMNS} FROM controllers"
            " WHERE farm_id = ANY(%(farms)s)"
            " AND (%(house)s::int IS NULL OR house_number = %(house)s::int)"
            " ORDER BY farm_id, house_number, controller_id",
            {"farms": farm_ids, "house": house_number},
        )
        return await cursor.fetchall()


async def get_controller(connection: AsyncConnection, controller_id: str) -> Row | None:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            f"SELECT {_CONTROLLER_COLUMNS} FROM controllers WHERE controller_id = %s", (controller_id,)
        )
        return await cursor.fetchone()
