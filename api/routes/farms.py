"""Farms the API key may read."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ConnectionDep, PrincipalDep
from api.exceptions import FARM_NOT_FOUND, NotFound
from api.models import ErrorPublic, FarmPublic, FarmsPublic
from api.queries import farms as queries
from api.validation import FarmPath

router = APIRouter(prefix="/farms", tags=["farms"])


@router.get("", summary="List farms")
async def list_farms(connection: ConnectionDep, principal: PrincipalDep) -> FarmsPublic:
    """Return every farm in the API key's scope, ordered by id."""
    rows = await queries.list_farms(connection, sorted(principal.farm_ids))
    return FarmsPublic(data=[FarmPublic.model_validate(row) for row in rows], count=len(rows))


@router.get("/{farm_id}", summary="Get one farm", responses={404: {"model": ErrorPublic}})
async def get_farm(farm_id: FarmPath, connection: ConnectionDep, principal: PrincipalDep) -> FarmPublic:
    """Return one farm; a farm outside the key's scope is reported as not found."""
    row = await queries.get_farm(connection, farm_id) if principal.allows(farm_id) else None
    if row is None:
        raise NotFound(FARM_NOT_FOUND)
    return FarmPublic.model_validate(row)
