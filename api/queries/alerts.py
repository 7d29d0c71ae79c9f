"""Alerts, their acknowledgement and resolution, and the alert_actions history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from api.db import AsyncConnection

Row = dict[str, Any]

ALERT_COLUMNS = (
    "alert_id",
    "farm_id",
    "house_number",
    "subject",
    "rule",
    "severity",
    "state",
    "title",
    "message",
    "value",
    "expected",
    "opened_at",
    "last_event_at",
    "resolved_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_by",
    "evidence",
)


def _select_list(prefix: str = "") -> sql.Composable:
    items: list[sql.Composable] = []
    for column in ALERT_COLUMNS:
        identifier = sql.Identifier(column) if not prefix else sql.Identifier(prefix, column)
        if column == "alert_id":
            items.append(sql.SQL("{}::text AS alert_id").format(identifier))
        else:
            items.append(identifier)
    return sql.SQL(", ").join(items)


@dataclass(frozen=True)
class AlertsFilter:
    """An alerts query; the time range applies to opened_at."""

    farm_ids: list[str]
    state: str | None = None
    severity: str | None = None
    house_number: int | None = None
    start: datetime | None = None
    end: datetime | None = None


def build_alerts_query(
    query: AlertsFilter, before: tuple[datetime, str] | None, limit: int | None
) -> tuple[sql.Composed, dict[str, Any]]:
    """Return the SQL and parameters of an alerts query, newest opened first."""
    conditions: list[sql.Composable] = [sql.SQL("farm_id = ANY(%(farms)s)")]
    values: dict[str, Any] = {"farms": query.farm_ids}
    if query.state is not None:
        conditions.append(sql.SQL("state = %(state)s"))
        values["state"] = query.state
    if query.severity is not None:
        conditions.append(sql.SQL("severity = %(severity)s"))
        values["severity"] = query.severity
    if query.house_number is not None:
        conditions.append(sql.SQL("house_number = %(house)s"))
        values["house"] = query.house_number
    if query.start is not None:
        conditions.append(sql.SQL("opened_at >= %(start)s"))
        values["start"] = query.start
    if query.end is not None:
        conditions.append(sql.SQL("opened_at < %(end)s"))
        values["end"] = query.end
    if before is not None:
        conditions.append(sql.SQL("(opened_at, alert_id) < (%(before_time)s, %(before_id)s::uuid)"))
        values["before_time"], values["before_id"] = before
    statement = sql.SQL(
        "SELECT {columns} FROM alerts WHERE {conditions} ORDER BY opened_at DESC, alert_id DESC"
    ).format(columns=_select_list(), conditions=sql.SQL(" AND ").join(conditions))
    if limit is not None:
        statement = statement + sql.SQL(" LIMIT %(limit)s")
        values["limit"] = limit
    return statement, values


async def fetch_alerts(
    connection: AsyncConnection, query: AlertsFilter, before: tuple[datetime, str] | None, limit: int
) -> list[Row]:
    statement, values = build_alerts_query(query, before, limit)
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(statement, values)
        return await cursor.fetchall()


async def stream_alerts(
    connection: AsyncConnection, query: AlertsFilter, chunk_rows: int = 1000
) -> AsyncIterator[tuple[Any, ...]]:
    """Yield every alert of a query as a tuple in ``ALERT_COLUMNS`` order."""
    statement, values = build_alerts_query(query, None, None)
    async with connection.cursor() as cursor:
        async for row in cursor.stream(statement, values, size=chunk_rows):
            yield row


async def get_alert(connection: AsyncConnection, alert_id: str, for_update: bool = False) -> Row | None:
    statement = sql.SQL("SELECT {columns} FROM alerts WHERE alert_id = %s").format(columns=_select_list())
    if for_update:
        statement = statement + sql.SQL(" FOR UPDATE")
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(statement, (alert_id,))
        return await cursor.fetchone()


async def list_actions(connection: AsyncConnection, alert_id: str) -> list[Row]:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT action, actor, note, created_at FROM alert_actions"
            " WHERE alert_id = %s ORDER BY created_at, id",
            (alert_id,),
        )
        return await cursor.fetchall()


async def record_acknowledgement(
    connection: AsyncConnection, alert_id: str, actor: str, note: str | None
) -> None:
    """Set the alert's acknowledged_at and acknowledged_by and append an alert_actions row."""
    await connection.execute(
        "UPDATE alerts SET acknowledged_at = now(), acknowledged_by = %s WHERE alert_id = %s",
        (actor, alert_id),
    )
    await connection.execute(
        "INSERT INTO alert_actions (alert_id, action, actor, note, created_at)"
        " VALUES (%s, 'acknowledge', %s, %s, now())",
        (alert_id, actor, note),
    )


async def record_resolution(connection: AsyncConnection, alert_id: str, actor: str, note: str | None) -> None:
    """Mark the alert resolved by a person and append an alert_actions row."""
    await connection.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = %s WHERE alert_id = %s",
        (actor, alert_id),
    )
    await connection.execute(
        "INSERT INTO alert_actions (alert_id, action, actor, note, created_at)"
        " VALUES (%s, 'resolve', %s, %s, now())",
        (alert_id, actor, note),
    )
