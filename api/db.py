"""The API's database connection pool.

Connections run in autocommit mode: reads need no transaction, and the few writes
(acknowledge, resolve) open one explicitly with ``connection.transaction()``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from api.config import ApiSettings

AsyncConnection = psycopg.AsyncConnection[Any]


async def configure_session(connection: AsyncConnection, statement_timeout_ms: int) -> None:
    """Apply the API's session settings to a new pooled connection."""
    # Timestamps leave the database in UTC whatever the server's TimeZone setting is.
    await connection.execute("SET TIME ZONE 'UTC'")
    # The latest-readings window depends on a subquery, so the planner expects far more rows than
    # it reads, and JIT compilation cost about 130 ms of a 150 ms query on 50 million readings.
    await connection.execute("SET jit = off")
    # After five runs of a prepared statement PostgreSQL may switch to a generic plan, which cannot
    # see the parameter values. For a week of one parameter it chose the house index and read 60
    # times the rows it returned, so every execution gets a plan for its own values.
    await connection.execute("SET plan_cache_mode = force_custom_plan")
    if statement_timeout_ms:
        await connection.execute(
            sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{statement_timeout_ms}ms"))
        )


def create_pool(settings: ApiSettings) -> AsyncConnectionPool[AsyncConnection]:
    """Build a closed pool sized by the settings; the application opens it at start-up."""
    timeout_ms = settings.api_statement_timeout_ms

    async def configure(connection: AsyncConnection) -> None:
        await configure_session(connection, timeout_ms)

    return AsyncConnectionPool(
        settings.database_url,
        min_size=1,
        max_size=settings.api_pool_size,
        timeout=settings.api_pool_timeout_seconds,
        kwargs={
            "autocommit": True,
            # None disables preparing; 5 is psycopg's default number of runs before preparing a query.
            "prepare_threshold": 5 if settings.api_prepare_statements else None,
        },
        configure=configure,
        open=False,
        name="farmstream-api",
    )
