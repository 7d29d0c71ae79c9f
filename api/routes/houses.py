"""Houses of the farms the API key may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ConnectionDep, PrincipalDep, farms_in_scope
from api.exceptions import HOUSE_NOT_FOUND, NotFound
from api.models import ErrorPublic, HousePublic, HousesPublic
from api.queries import farms as queries
from api.validation import FarmPath, FarmQuery

router = APIRouter(tags=["houses"])


@router.get("/houses", summary="List houses", responses={403: {"model": ErrorPublic}})
async def list_houses(
    connection: ConnectionDep,
    principal: PrincipalDep,
    farm_id: FarmQuery = None,
) -> HousesPublic:
    """Return the houses of one farm, or of every farm in the key's scope."""
    rows = await queries.list_houses(connection, farms_in_scope(principal, farm_id))
    return HousesPublic(data=[HousePublic.model_validate(row) for row in rows], count=len(rows))


@router.get(
    "/farms/{farm_id}/houses/{house_number}", summary="Get one house", responses={404: {"model": ErrorPublic}}
)
async def get_house(
    farm_id: FarmPath,
    house_number: Annotated[int, Path(ge=1)],
    connection: ConnectionDep,
    principal: PrincipalDep,
) -> HousePublic:
    """Return one house; a house of a farm outside the key's scope is reported as not found."""
    row = await queries.get_house(connection, farm_id, house_number) if principal.allows(farm_id) else None
    if row is None:
        raise NotFound(HOUSE_NOT_FOUND)
    return HousePublic.model_validate(row)
