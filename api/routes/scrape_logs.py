"""Scrape logs: the outcome of each scrape cycle of each farm's portal account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.deps import ConnectionDep, PageLimitDep, PrincipalDep, farms_in_scope
from api.exceptions import invalid_parameter
from api.models import ErrorPublic, ScrapeLogPublic, ScrapeLogsPage, ScrapeOutcome
from api.pagination import decode_event_cursor, encode_cursor, split_page
from api.queries.events import SCRAPE_LOG_COLUMNS, EventsFilter, fetch_events
from api.validation import CursorQuery, FarmQuery

router = APIRouter(prefix="/scrape-logs", tags=["scrape logs"])


@router.get("", summary="List scrape logs", responses={403: {"model": ErrorPublic}})
async def list_scrape_logs(
    connection: ConnectionDep,
    principal: PrincipalDep,
    limit: PageLimitDep,
    farm_id: FarmQuery = None,
    outcome: Annotated[
        ScrapeOutcome | None, Query(description="success, partial, failed or auth_failed.")
    ] = None,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="Started at or after this time.")
    ] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="Started before this time.")] = None,
    cursor: CursorQuery = None,
) -> ScrapeLogsPage:
    """Return scrape cycles, newest first, to see when and why a farm's portal scraping failed."""
    if start is not None and end is not None and end <= start:
        raise invalid_parameter("to", "to must be later than from", end.isoformat())
    query = EventsFilter(
        farm_ids=farms_in_scope(principal, farm_id),
        start=start,
        end=end,
        equal=(("outcome", outcome),) if outcome is not None else (),
    )
    before = decode_event_cursor(cursor, "scrape-logs") if cursor is not None else None
    rows = await fetch_events(
        connection, "scrape_logs", SCRAPE_LOG_COLUMNS, "started_at", query, before, limit + 1
    )
    page, last = split_page(rows, limit)
    next_cursor = encode_cursor("scrape-logs", (last["started_at"], last["event_id"])) if last else None
    return ScrapeLogsPage(
        data=[ScrapeLogPublic.model_validate(row) for row in page], count=len(page), next_cursor=next_cursor
    )
