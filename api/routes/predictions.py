"""Failure predictions and environmental recommendations from the stream processors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.db import AsyncConnection
from api.deps import ConnectionDep, PageLimitDep, PrincipalDep, farms_in_scope
from api.exceptions import invalid_parameter
from api.keys import Principal
from api.models import (
    ErrorPublic,
    PredictionPublic,
    PredictionsPage,
    RecommendationPublic,
    RecommendationsPage,
)
from api.pagination import decode_event_cursor, encode_cursor, split_page
from api.queries.events import PREDICTION_COLUMNS, RECOMMENDATION_COLUMNS, EventsFilter, Row, fetch_events
from api.validation import CursorQuery, FarmQuery

router = APIRouter(tags=["predictions"])

HouseQuery = Annotated[int | None, Query(ge=1, description="Only this house.")]
StartQuery = Annotated[AwareDatetime | None, Query(alias="from", description="Created at or later.")]
EndQuery = Annotated[AwareDatetime | None, Query(alias="to", description="Created before this time.")]


def _check_range(start: AwareDatetime | None, end: AwareDatetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise invalid_parameter("to", "to must be later than from", end.isoformat())


async def _fetch_page(
    connection: AsyncConnection,
    principal: Principal,
    kind: str,
    cursor_kind: str,
    columns: tuple[str, ...],
    limit: int,
    *,
    farm_id: str | None,
    house_number: int | None,
    start: AwareDatetime | None,
    end: AwareDatetime | None,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """Fetch one page of the predictions table's rows of one kind, newest first, and the next cursor."""
    _check_range(start, end)
    query = EventsFilter(
        farm_ids=farms_in_scope(principal, farm_id),
        start=start,
        end=end,
        house_number=house_number,
        equal=(("kind", kind),),
    )
    before = decode_event_cursor(cursor, cursor_kind) if cursor is not None else None
    rows = await fetch_events(connection, "predictions", columns, "created_at", query, before, limit + 1)
    page, last = split_page(rows, limit)
    next_cursor = encode_cursor(cursor_kind, (last["created_at"], last["event_id"])) if last else None
    return page, next_cursor


@router.get("/predictions", summary="List failure predictions", responses={403: {"model": ErrorPublic}})
async def list_predictions(
    connection: ConnectionDep,
    principal: PrincipalDep,
    limit: PageLimitDep,
    farm_id: FarmQuery = None,
    house_number: HouseQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    cursor: CursorQuery = None,
) -> PredictionsPage:
    """Return failure predictions, newest first: a controller whose error rate crossed its threshold."""
    page, next_cursor = await _fetch_page(
        connection,
        principal,
        "failure_prediction",
        "predictions",
        PREDICTION_COLUMNS,
        limit,
        farm_id=farm_id,
        house_number=house_number,
        start=start,
        end=end,
        cursor=cursor,
    )
    return PredictionsPage(
        data=[PredictionPublic.model_validate(row) for row in page], count=len(page), next_cursor=next_cursor
    )


@router.get("/recommendations", summary="List recommendations", responses={403: {"model": ErrorPublic}})
async def list_recommendations(
    connection: ConnectionDep,
    principal: PrincipalDep,
    limit: PageLimitDep,
    farm_id: FarmQuery = None,
    house_number: HouseQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    cursor: CursorQuery = None,
) -> RecommendationsPage:
    """Return environmental recommendations for growers, newest first."""
    page, next_cursor = await _fetch_page(
        connection,
        principal,
        "recommendation",
        "recommendations",
        RECOMMENDATION_COLUMNS,
        limit,
        farm_id=farm_id,
        house_number=house_number,
        start=start,
        end=end,
        cursor=cursor,
    )
    return RecommendationsPage(
        data=[RecommendationPublic.model_validate(row) for row in page],
        count=len(page),
        next_cursor=next_cursor,
    )
