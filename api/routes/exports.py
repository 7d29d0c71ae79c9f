"""CSV exports of readings and alerts, streamed row by row so a long range never sits in memory."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import PoolDep
from api.models import ErrorPublic
from api.queries import alerts as alert_queries
from api.queries import readings as reading_queries
from api.routes.alerts import AlertsFilterDep
from api.routes.readings import ReadingsFilterDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/exports", tags=["exports"])

_ROWS_PER_CHUNK = 1000
_CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row, UTF-8, comma-separated."},
    403: {"model": ErrorPublic},
}


# A spreadsheet runs a cell starting with one of these as a formula; a leading quote makes it text.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _format_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


async def _csv_chunks(
    header: Sequence[str], rows: Callable[[], AsyncIterator[tuple[Any, ...]]]
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    # With the RFC 4180 line end, the writer quotes cells that contain a bare carriage return.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 0
    async for row in rows():
        writer.writerow([_format_cell(value) for value in row])
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get(
    "/readings.csv",
    summary="Export readings as CSV",
    response_class=StreamingResponse,
    responses=_CSV_RESPONSES,
)
async def export_readings(pool: PoolDep, query: ReadingsFilterDep) -> StreamingResponse:
    """Stream every reading of a range, raw or aggregated, with the filters of ``GET /readings``."""

    async def rows() -> AsyncIterator[tuple[Any, ...]]:
        # The request's own connection is back in the pool by now; the stream takes one of its own.
        async with pool.connection() as connection:
            async for row in reading_queries.stream_readings(connection, query, _ROWS_PER_CHUNK):
                yield row

    filename = f"readings-{query.bucket}-{query.start.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"
    return StreamingResponse(
        _csv_chunks(reading_queries.columns_for(query.bucket), rows),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(filename),
    )


@router.get(
    "/alerts.csv", summary="Export alerts as CSV", response_class=StreamingResponse, responses=_CSV_RESPONSES
)
async def export_alerts(pool: PoolDep, query: AlertsFilterDep) -> StreamingResponse:
    """Stream every alert matching the filters of ``GET /alerts``, newest opened first."""

    async def rows() -> AsyncIterator[tuple[Any, ...]]:
        async with pool.connection() as connection:
            async for row in alert_queries.stream_alerts(connection, query, _ROWS_PER_CHUNK):
                yield row

    return StreamingResponse(
        _csv_chunks(alert_queries.ALERT_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("alerts.csv"),
    )
