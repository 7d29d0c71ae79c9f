"""Alerts: filtered lists, one alert with its action history, acknowledgement and resolution."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from pydantic import AwareDatetime

from api.deps import ConnectionDep, PageLimitDep, PrincipalDep, farms_in_scope
from api.exceptions import (
    ALERT_ALREADY_ACKNOWLEDGED,
    ALERT_ALREADY_RESOLVED,
    ALERT_NOT_FOUND,
    Conflict,
    NotFound,
    invalid_parameter,
)
from api.keys import Principal
from api.models import (
    AlertActionPublic,
    AlertActionRequest,
    AlertDetailPublic,
    AlertPublic,
    AlertsPage,
    AlertStateFilter,
    ErrorPublic,
    SeverityFilter,
)
from api.pagination import decode_event_cursor, encode_cursor, split_page
from api.queries import alerts as queries
from api.queries.alerts import AlertsFilter
from api.validation import CursorQuery, FarmQuery

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/alerts", tags=["alerts"])


async def get_alerts_filter(
    principal: PrincipalDep,
    state: Annotated[AlertStateFilter | None, Query(description="open or resolved.")] = None,
    severity: Annotated[SeverityFilter | None, Query(description="info, warning or critical.")] = None,
    farm_id: FarmQuery = None,
    house_number: Annotated[int | None, Query(ge=1, description="Only this house.")] = None,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="Opened at or after this time.")
    ] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="Opened before this time.")] = None,
) -> AlertsFilter:
    """Validate the filters of an alerts query against the key's scope."""
    if start is not None and end is not None and end <= start:
        raise invalid_parameter("to", "to must be later than from", end.isoformat())
    return AlertsFilter(
        farm_ids=farms_in_scope(principal, farm_id),
        state=state,
        severity=severity,
        house_number=house_number,
        start=start,
        end=end,
    )


AlertsFilterDep = Annotated[AlertsFilter, Depends(get_alerts_filter)]


@router.get("", summary="List alerts", responses={403: {"model": ErrorPublic}})
async def list_alerts(
    connection: ConnectionDep,
    query: AlertsFilterDep,
    limit: PageLimitDep,
    cursor: CursorQuery = None,
) -> AlertsPage:
    """Return alerts, newest opened first, one page at a time."""
    before = decode_event_cursor(cursor, "alerts") if cursor is not None else None
    rows = await queries.fetch_alerts(connection, query, before, limit + 1)
    page, last = split_page(rows, limit)
    next_cursor = encode_cursor("alerts", (last["opened_at"], last["alert_id"])) if last is not None else None
    return AlertsPage(
        data=[AlertPublic.model_validate(row) for row in page], count=len(page), next_cursor=next_cursor
    )


async def _load_in_scope(
    connection: ConnectionDep, principal: Principal, alert_id: uuid.UUID, for_update: bool = False
) -> dict[str, object]:
    row = await queries.get_alert(connection, str(alert_id), for_update=for_update)
    if row is None or not principal.allows(str(row["farm_id"])):
        raise NotFound(ALERT_NOT_FOUND)
    return row


async def _detail(connection: ConnectionDep, row: dict[str, object]) -> AlertDetailPublic:
    actions = await queries.list_actions(connection, str(row["alert_id"]))
    return AlertDetailPublic.model_validate(
        {**row, "actions": [AlertActionPublic.model_validate(action) for action in actions]}
    )


@router.get("/{alert_id}", summary="Get one alert", responses={404: {"model": ErrorPublic}})
async def get_alert(
    alert_id: uuid.UUID, connection: ConnectionDep, principal: PrincipalDep
) -> AlertDetailPublic:
    """Return one alert with its acknowledgements and resolutions."""
    row = await _load_in_scope(connection, principal, alert_id)
    return await _detail(connection, row)


_ACTION_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorPublic},
    409: {"model": ErrorPublic, "description": "The alert is already acknowledged or resolved."},
}


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert", responses=_ACTION_RESPONSES)
async def acknowledge_alert(
    alert_id: uuid.UUID,
    connection: ConnectionDep,
    principal: PrincipalDep,
    request: Annotated[AlertActionRequest | None, Body()] = None,
) -> AlertDetailPublic:
    """Record who acknowledged an open alert and when; the actor defaults to the API key's name."""
    actor = request.actor if request is not None and request.actor else principal.name
    note = request.note if request is not None else None
    async with connection.transaction():
        row = await _load_in_scope(connection, principal, alert_id, for_update=True)
        if row["state"] == "resolved":
            raise Conflict(ALERT_ALREADY_RESOLVED)
        if row["acknowledged_at"] is not None:
            raise Conflict(ALERT_ALREADY_ACKNOWLEDGED)
        await queries.record_acknowledgement(connection, str(alert_id), actor, note)
        row = await _load_in_scope(connection, principal, alert_id)
    logger.info(
        "alert acknowledged", extra={"alert": str(alert_id), "farm": row["farm_id"], "key": principal.key_id}
    )
    return await _detail(connection, row)


@router.post("/{alert_id}/resolve", summary="Resolve an alert", responses=_ACTION_RESPONSES)
async def resolve_alert(
    alert_id: uuid.UUID,
    connection: ConnectionDep,
    principal: PrincipalDep,
    request: Annotated[AlertActionRequest | None, Body()] = None,
) -> AlertDetailPublic:
    """Record who resolved an alert and when; an alert can be resolved whether or not acknowledged."""
    actor = request.actor if request is not None and request.actor else principal.name
    note = request.note if request is not None else None
    async with connection.transaction():
        row = await _load_in_scope(connection, principal, alert_id, for_update=True)
        if row["state"] == "resolved":
            raise Conflict(ALERT_ALREADY_RESOLVED)
        await queries.record_resolution(connection, str(alert_id), actor, note)
        row = await _load_in_scope(connection, principal, alert_id)
    logger.info(
        "alert resolved", extra={"alert": str(alert_id), "farm": row["farm_id"], "key": principal.key_id}
    )
    return await _detail(connection, row)
