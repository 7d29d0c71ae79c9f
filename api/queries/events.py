"""Failure predictions, recommendations and scrape logs: append-only events listed newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from api.db import AsyncConnection

Row = dict[str, Any]

PREDICTION_COLUMNS = (
    "event_id",
    "farm_id",
    "house_number",
    "controller_id",
    "score",
    "threshold",
    "confidence",
    "window_start",
    "window_end",
    "created_at",
    "evidence",
)
RECOMMENDATION_COLUMNS = ("event_id", "farm_id", "house_number", "action", "reason", "created_at", "evidence")
SCRAPE_LOG_COLUMNS = (
    "event_id",
    "farm_id",
    "cycle_id",
    "outcome",
    "started_at",
    "finished_at",
    "duration_seconds",
    "houses_total",
    "houses_connected",
    "readings_published",
    "dead_letters",
    "requests",
    "retries",
    "error_kind",
    "error_message",
)


@dataclass(frozen=True)
class EventsFilter:
    """A query over one event table; ``equal`` contains (column, value) equality conditions."""

    farm_ids: list[str]
    start: datetime | None = None
    end: datetime | None = None
    house_number: int | None = None
    equal: tuple[tuple[str, str], ...] = ()


async def fetch_events(
    connection: AsyncConnection,
    table: str,
    columns: tuple[str, ...],
    time_column: str,
    query: EventsFilter,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Row]:
    """Return one page of an event table, ordered by (time_column, event_id) descending."""
    time = sql.Identifier(time_column)

    conditions: list[sql.Composable] = [sql.SQL("farm_id = ANY(%(farms)s)")]
    values: dict[str, Any] = {"farms": query.farm_ids, "limit": limit}
    for index, (column, value) in enumerate(query.equal):
        conditions.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(f"equal{index}")))
        values[f"equal{index}"] = value
    if query.house_number is not None:
        conditions.append(sql.SQL("house_number = %(house)s"))
        values["house"] = query.house_number
    if query.start is not None:
        conditions.append(sql.SQL("{} >= %(start)s").format(time))
        values["start"] = query.start
    if query.end is not None:
        conditions.append(sql.SQL("{} < %(end)s").format(time))
        values["end"] = query.end
    if before is not None:
        conditions.append(sql.SQL("({}, event_id) < (%(before_time)s, %(before_id)s::uuid)").format(time))
        values["before_time"], values["before_id"] = before

    selected = [
        sql.SQL("event_id::text AS event_id") if column == "event_id" else sql.Identifier(column)
        for column in columns
    ]
    statement = sql.SQL(
        "SELECT {columns} FROM {table} WHERE {conditions} ORDER BY {time} DESC, event_id DESC LIMIT %(limit)s"
    ).format(
        columns=sql.SQL(", ").join(selected),
        table=sql.Identifier(table),
        conditions=sql.SQL(" AND ").join(conditions),
        time=time,
    )
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(statement, values)
        return await cursor.fetchall()
