"""Climate controllers, one per house, with their last reported connection state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ConnectionDep, PrincipalDep, farms_in_scope
from api.exceptions import CONTROLLER_NOT_FOUND, NotFound
from api.models import ControllerPublic, ControllersPublic, ErrorPublic
from api.queries import farms as queries
from api.validation import ControllerPath, FarmQuery

router = APIRouter(prefix="/controllers", tags=["controllers"])


@router.get("", summary="List controllers", responses={403: {"model": ErrorPublic}})
async def list_controllers(
    connection: ConnectionDep,
    principal: PrincipalDep,
    farm_id: FarmQuery = None,
    house_number: Annotated[int | None, Query(ge=1, description="Only the controller of this house.")] = None,
) -> ControllersPublic:
    """Return the controllers of the key's farms, optionally of one farm and house."""
    rows = await queries.list_controllers(connection, farms_in_scope(principal, farm_id), house_number)
    return ControllersPublic(data=[ControllerPublic.model_validate(row) for row in rows], count=len(rows))


@router.get("/{controller_id:path}", summary="Get one controller", responses={404: {"model": ErrorPublic}})
async def get_controller(
    controller_id: ControllerPath, connection: ConnectionDep, principal: PrincipalDep
) -> ControllerPublic:
    """Return one controller by id (``<farm_id>/house-<n>``, slash included)."""
    row = await queries.get_controller(connection, controller_id)
    if row is None or not principal.allows(row["farm_id"]):
        raise NotFound(CONTROLLER_NOT_FOUND)
    return ControllerPublic.model_validate(row)
