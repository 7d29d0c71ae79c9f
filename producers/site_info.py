"""Reader of ``GetSiteControllersInfo``: every house of a farm with its connection and live values.

Live values come from ``DicComparisonItems[<Category>].House<N>`` strings (``House<N>_Data`` is
kept as the cell's data). The per-house ``FarmHouses[i].Data`` block is ignored: real responses
send it zero-filled (``CurrentNumericValue 0.0``, ``GrowthDay 0``) while the real values are in
the comparison items, so reading it would publish zeros that were never measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from producers.exceptions import PayloadError
from producers.tables import Cell
from schemas.events import ConnectionStatus

COMPARISON_TABLE = "DicComparisonItems"
CONNECTION_STATUS: dict[int, ConnectionStatus] = {
    0: "offline",
    1: "connected",
    2: "disconnected",
    3: "unknown",
}
"""eConnectionStatus codes of ``FarmHouses[i].ConnectionStatus``."""


@dataclass
class SiteHouse:
    """One house as ``GetSiteControllersInfo`` reports it."""

    house_number: int
    connection_status: ConnectionStatus
    house_mode: int | None
    cells: list[Cell] = field(default_factory=list)
    alarm_codes: list[str] = field(default_factory=list)

    def cell(self, key: str) -> Cell | None:
        """Return the comparison cell of a category, or None."""
        for cell in self.cells:
            if cell.key == key:
                return cell
        return None


@dataclass
class SiteInfo:
    """All houses of a farm and the portal's time of the data."""

    last_update: datetime | None
    houses: list[SiteHouse]


def parse_portal_time(raw: object) -> datetime | None:
    """Parse an ISO timestamp with offset such as ``LastUpdateDT``; None if absent or without offset."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _alarm_codes(alarms: object, house_number: int) -> list[str]:
    # NOTE: no capture shows a HousesAlarms item, so this reads the likely fields and skips the rest.
    codes: list[str] = []
    if not isinstance(alarms, list):
        return codes
    for alarm in alarms:
        if not isinstance(alarm, Mapping):
            continue
        house = alarm.get("HouseNumber", alarm.get("House"))
        if str(house) != str(house_number):
            continue
        for name in ("AlarmCode", "AlarmMessage", "Alarm_Message", "Message", "Code"):
            value = alarm.get(name)
            if value not in (None, ""):
                codes.append(str(value))
                break
    return codes


def read_site_info(payload: object) -> SiteInfo:
    """Read a ``GetSiteControllersInfo`` ``reponseObj``; PayloadError if ``FarmHouses`` is missing."""
    if not isinstance(payload, Mapping):
        raise PayloadError(
            f"invalid GetSiteControllersInfo payload: expected an object, got {type(payload).__name__}"
        )
    farm_houses = payload.get("FarmHouses")
    if not isinstance(farm_houses, list):
        raise PayloadError("GetSiteControllersInfo payload has no FarmHouses list")
    comparison: Mapping[str, Any] = payload.get("DicComparisonItems") or {}
    if not isinstance(comparison, Mapping):
        raise PayloadError("GetSiteControllersInfo DicComparisonItems is not an object")

    houses: list[SiteHouse] = []
    for entry in farm_houses:
        if not isinstance(entry, Mapping):
            continue
        number = entry.get("HouseNumber")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise PayloadError(f"invalid FarmHouses HouseNumber {number!r}: expected a positive integer")
        status_code = entry.get("ConnectionStatus")
        status = CONNECTION_STATUS.get(status_code, "unknown") if isinstance(status_code, int) else "unknown"
        mode = entry.get("HouseMode")
        house = SiteHouse(
            house_number=number,
            connection_status=status,
            house_mode=mode if isinstance(mode, int) and not isinstance(mode, bool) else None,
            alarm_codes=_alarm_codes(payload.get("HousesAlarms"), number),
        )
        for category, item in comparison.items():
            if not isinstance(item, Mapping):
                continue
            column = f"House{number}"
            if column not in item:
                continue
            house.cells.append(
                Cell(
                    table=COMPARISON_TABLE,
                    key=str(category),
                    value=item.get(column),
                    data=item.get(f"{column}_Data"),
                    row={
                        "Category": category,
                        column: item.get(column),
                        f"{column}_Data": item.get(f"{column}_Data"),
                    },
                )
            )
        houses.append(house)
    return SiteInfo(last_update=parse_portal_time(payload.get("LastUpdateDT")), houses=houses)
