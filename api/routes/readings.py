"""Readings by time range (raw or aggregated, cursor-paginated) and the latest readings of a house."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AwareDatetime

from api.deps import ConnectionDep, PageLimitDep, PrincipalDep, SettingsDep, farms_in_scope
from api.exceptions import HOUSE_NOT_FOUND, NotFound, invalid_parameter
from api.models import (
    Bucket,
    BucketReadingsPage,
    ErrorPublic,
    LatestReadingsPublic,
    RawReadingsPage,
)
from api.pagination import decode_reading_cursor, encode_cursor, split_page
from api.queries import farms as farm_queries
from api.queries import readings as queries
from api.queries.readings import ReadingsFilter
from api.responses import trusted_response
from api.validation import ControllerQuery, CursorQuery, FarmPath, FarmQuery, ParameterName

router = APIRouter(tags=["readings"])

MAX_PARAMETERS = 100


async def get_readings_filter(
    settings: SettingsDep,
    principal: PrincipalDep,
    start: Annotated[
        AwareDatetime, Query(alias="from", description="Start of the range, inclusive, with a UTC offset.")
    ],
    end: Annotated[AwareDatetime, Query(alias="to", description="End of the range, exclusive.")],
    bucket: Annotated[
        Bucket,
        Query(description="raw rows, or 5m, 1h, 1d aggregates; each width has its own maximum range."),
    ] = "raw",
    period: Annotated[
        Literal["instant", "day"],
        Query(description="instant values, or daily summary rows (raw only)."),
    ] = "instant",
    farm_id: FarmQuery = None,
    house_number: Annotated[int | None, Query(ge=1, description="Only this house.")] = None,
    controller_id: ControllerQuery = None,
    parameter: Annotated[
        list[ParameterName] | None,
        Query(description="Only these parameters; repeat the parameter for several."),
    ] = None,
) -> ReadingsFilter:
    """Validate the range, bucket and filters of a readings query against the key's scope."""
    if end <= start:
        raise invalid_parameter("to", "to must be later than from", end.isoformat())
    longest = settings.max_range(bucket)
    if end - start > longest:
        raise invalid_parameter(
            "to",
            f"range exceeds {longest // timedelta(hours=1)} h, the maximum for bucket={bucket}; "
            "shorten it or use a wider bucket",
            end.isoformat(),
        )
    if bucket != "raw" and period != "instant":
        raise invalid_parameter(
            "period", "only instant readings are aggregated; use bucket=raw for daily rows", period
        )
    if parameter is not None and len(parameter) > MAX_PARAMETERS:
        raise invalid_parameter("parameter", f"at most {MAX_PARAMETERS} parameters per query", len(parameter))
    return ReadingsFilter(
        farm_ids=farms_in_scope(principal, farm_id),
        start=start,
        end=end,
        bucket=bucket,
        period=period,
        house_number=house_number,
        controller_id=controller_id,
        parameters=parameter,
    )


ReadingsFilterDep = Annotated[ReadingsFilter, Depends(get_readings_filter)]


@router.get(
    "/readings",
    summary="Readings in a time range",
    response_model=RawReadingsPage | BucketReadingsPage,
    responses={403: {"model": ErrorPublic}},
)
async def list_readings(
    connection: ConnectionDep,
    query: ReadingsFilterDep,
    limit: PageLimitDep,
    cursor: CursorQuery = None,
) -> Response:
    """Return readings ordered by time, controller and parameter, one page at a time.

    With a bucket of 5m, 1h or 1d the rows come from the aggregate of that width: one row per
    bucket, controller and parameter, with the average, minimum, maximum and count of the
    instant values in it. Follow ``next_cursor`` until it is null to read every row once.
    """
    kind = f"readings:{query.bucket}:{query.period}"
    after = decode_reading_cursor(cursor, kind) if cursor is not None else None
    rows = await queries.fetch_readings(connection, query, after, limit + 1)
    page, last = split_page(rows, limit)
    time_column = "observed_at" if query.bucket == "raw" else "bucket"
    next_cursor = (
        encode_cursor(kind, (last[time_column], last["controller_id"], last["parameter"]))
        if last is not None
        else None
    )
    content = {"bucket": query.bucket, "data": page, "count": len(page), "next_cursor": next_cursor}
    return trusted_response(content)


@router.get(
    "/farms/{farm_id}/houses/{house_number}/readings/latest",
    summary="Latest readings of a house",
    response_model=LatestReadingsPublic,
    responses={404: {"model": ErrorPublic}},
)
async def latest_readings(
    farm_id: FarmPath,
    house_number: Annotated[int, Path(ge=1)],
    connection: ConnectionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:
    """Return the newest instant value of each parameter of a house.

    Parameters silent for longer than FARMSTREAM_API_LATEST_WINDOW_MINUTES (default 60) before the
    house's newest reading are left out.
    """
    if not principal.allows(farm_id):
        raise NotFound(HOUSE_NOT_FOUND)
    window = timedelta(minutes=settings.api_latest_window_minutes)
    rows = await queries.latest_readings(connection, farm_id, house_number, window)
    # Rows come back only for a house in the houses table, so only an empty result needs the lookup.
    if not rows and await farm_queries.get_house(connection, farm_id, house_number) is None:
        raise NotFound(HOUSE_NOT_FOUND)
    content = {"farm_id": farm_id, "house_number": house_number, "data": rows, "count": len(rows)}
    return trusted_response(content)
