"""Session settings of the API's pooled connections, on both lanes."""

from __future__ import annotations

import asyncio

import pytest

from api.db import create_pool
from tests.api.conftest import LaneDatabase

pytestmark = pytest.mark.integration


async def _show_settings(lane_database: LaneDatabase) -> dict[str, str]:
    pool = create_pool(lane_database.settings(api_statement_timeout_ms=7000))
    await pool.open(wait=True)
    try:
        async with pool.connection() as connection:
            values = {}
            for name in ("TimeZone", "jit", "plan_cache_mode", "statement_timeout"):
                row = await (await connection.execute(f"SHOW {name}")).fetchone()
                assert row is not None
                values[name] = row[0]
            return values
    finally:
        await pool.close()


def test_pool_session_settings(lane_database: LaneDatabase) -> None:
    values = asyncio.run(_show_settings(lane_database))
    assert values["TimeZone"] == "UTC"
    assert values["jit"] == "off"
    assert values["plan_cache_mode"] == "force_custom_plan"
    assert values["statement_timeout"] == "7s"
