"""Builders shared by the simulator tests: small configurations and a stepper over the portal's payloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from simulator.config import STEP, FarmConfig, FaultSpec, SimulatorConfig, UnitSettings, default_config
from simulator.portal import Portal

CAPTURES = Path("/work/shared/data/rotemnet")
NAB_CSV = Path("/work/shared/data/nab/machine_temperature_system_failure.csv")


def capture(name: str) -> dict[str, Any]:
    """Return the response of a captured portal call."""
    data: dict[str, Any] = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    return dict(data["response"])


def one_farm(
    *,
    houses: int = 2,
    growth_day: int = 21,
    units: UnitSettings | None = None,
    faults: tuple[FaultSpec, ...] = (),
    seed: int = 5,
    **farm_fields: Any,
) -> SimulatorConfig:
    """Return a one-account configuration whose clock moves only when the test advances it."""
    farm = FarmConfig(
        "farm-t",
        "tester@example.com",
        "pw",
        houses=houses,
        growth_day_at_start=growth_day,
        units=units or UnitSettings(),
        **farm_fields,
    )
    return SimulatorConfig(farms=(farm,), seed=seed, faults=faults, advance_on_scrape=False)


def capture_like() -> SimulatorConfig:
    """Return the default configuration with a manual clock (farm-1 looks like the captures)."""
    return default_config(advance_on_scrape=False)


def local_start(config: SimulatorConfig, hour: int) -> datetime:
    """Return the UTC instant of ``hour`` o'clock local time on the start day of the first farm."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(config.farms[0].timezone)
    local = config.start.astimezone(zone).replace(hour=hour, minute=0, second=0, microsecond=0)
    return local.astimezone(config.start.tzinfo)


def starting_at(config: SimulatorConfig, instant: datetime) -> SimulatorConfig:
    """Return the configuration with the clock starting at ``instant``, faults and all."""
    return replace(config, start=instant)


def fault(kind: str, start: datetime, hours: float, house: int = 1, **fields: Any) -> FaultSpec:
    """Return a fault on farm-t starting at ``start`` and lasting ``hours``."""
    return FaultSpec(f"{kind}-t", kind, "farm-t", start, start + timedelta(hours=hours), house, **fields)


class Stepper:
    """Walk a portal step by step and decode the served payloads."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.portal = Portal(config)
        self.farm_id = config.farms[0].farm_id

    def site(self) -> dict[str, Any]:
        """Return GetSiteControllersInfo's reponseObj at the current step."""
        result: dict[str, Any] = json.loads(self.portal.site_controllers_info_json(self.farm_id))
        return result

    def comparison(self, category: str, house: int) -> str:
        """Return one comparison value of a house at the current step."""
        return str(self.site()["DicComparisonItems"][category][f"House{house}"])

    def command(self, house: int, command: int = 0) -> dict[str, Any]:
        """Return a command's dsData at the current step."""
        text = self.portal.command_json(self.farm_id, house, command)
        assert text is not None
        result: dict[str, Any] = json.loads(text)
        return result

    def advance(self, steps: int = 1) -> None:
        """Move the clock forward."""
        self.portal.advance(steps)

    def reading(self, house: int) -> Any:
        """Return the model's reading of a house at the current step (internal units)."""
        return self.portal.model(self.farm_id).houses[house - 1].reading


def general(dataset: dict[str, Any], key: str, table: str = "General") -> Any:
    """Return ParameterValue of one row of a command-0 table."""
    for row in dataset[table]:
        if row["ParameterKeyName"] == key:
            return row["ParameterValue"]
    raise KeyError(key)


def steps_between(start: datetime, end: datetime) -> int:
    """Return the number of 5-minute steps from ``start`` to ``end``."""
    return int((end - start) / STEP)
