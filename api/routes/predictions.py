"""Failure predictions and environmental recommendations from the stream processors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.deps import ConnectionDep, PageLimitDep, PrincipalDep, farms_in_scope
from api.exceptions import invalid_parameter
from api.models import (
    ErrorPublic,
    PredictionPublic,
    PredictionsPage,
    RecommendationPublic,
    RecommendationsPage,
)
from api.pagination import decode_event_cursor, encode_cursor, split_page
from api.queries.events import PREDICTION_COLUMNS, RECOMMENDATION_COLUMNS, EventsFilter, fetch_events
from api.validation import CursorQuery, FarmQuery

router = APIRouter(tags=["predictions"])

HouseQuery = Annotated[int | None, Query(ge=1, description="Only this house.")]
StartQuery = Annotated[AwareDatetime | None, Query(alias="from", description="Created at or later.")]
EndQuery = Annotated[AwareDatetime | None, Query(alias="to", description="Created before this time.")]


def _check_range(start: AwareDatetime | None, end: AwareDatetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise invalid_parameter("to", "to must be later than from", end.isoformat())


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
    _check_range(start, end)
    query = EventsFilter(
        farm_ids=farms_in_scope(principal, farm_id),
        start=start,
        end=end,
        house_number=house_number,
        equal=(("kind", "failure_prediction"),),
    )
    before = decode_event_cursor(cursor, "predictions") if cursor is not None else None
    rows = await fetch_events(
        connection, "predictions", PREDICTION_COLUMNS, "created_at", query, before, limit + 1
    )
    page, last = split_page(rows, limit)
    next_cursor = encode_cursor("predictions", (last["created_at"], last["event_id"])) if last else None
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
    _check_range(start, end)
    query = EventsFilter(
        farm_ids=farms_in_scope(principal, farm_id),
        start=start,
        end=end,
        house_number=house_number,
        equal=(("kind", "recommendation"),),
    )
    before = decode_event_cursor(cursor, "recommendations") if cursor is not None else None
    rows = await fetch_events(
        connection, "predictions", RECOMMENDATION_COLUMNS, "created_at", query, before, limit + 1
    )
    page, last = split_page(rows, limit)
    next_cursor = encode_cursor("recommendations", (last["created_at"], last["event_id"])) if last else None
    return RecommendationsPage(
        data=[RecommendationPublic.model_validate(row) for row in page],
        count=len(page),
        next_cursor=next_cursor,
    )
