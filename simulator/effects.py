"""Fault effects on one house during one step, in the form the physics model consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simulator.config import FaultSpec

DEFAULT_DRIFT_C_PER_HOUR = 0.05
DEFAULT_FAN_CAPACITY_LOSS = 0.45
DEFAULT_SHORT_RAIL_C = 99.9


@dataclass
class HouseEffects:
    """Fault effects on one house for one step; the default value means no fault."""

    failed_heaters: frozenset[int] = frozenset()
    fan_capacity_factor: float = 1.0
    inlet_stuck_at: float | None = None
    """Inlet opening in percent the actuator is frozen at; NaN freezes it where it is."""
    probe_drift_c: dict[str, float] = field(default_factory=dict)
    probe_open: frozenset[str] = frozenset()
    probe_short: dict[str, float] = field(default_factory=dict)
    leak_l_per_hour: float = 0.0
    water_supply_factor: float = 1.0
    outage_hours: float = 0.0
    power_failure: bool = False
    offline: bool = False
    offline_status: int = 2


NO_EFFECTS = HouseEffects()


def _hours_since(fault: FaultSpec, instant: datetime) -> float:
    return max(0.0, (instant - fault.start).total_seconds() / 3600.0)


def effects_for(faults: list[FaultSpec], instant: datetime, nominal_water_l_per_hour: float) -> HouseEffects:
    """Combine the house faults active at ``instant`` into one set of effects.

    ``nominal_water_l_per_hour`` (the flock's mean daily demand per hour) sizes a leak whose
    ``leak_l_per_hour`` parameter is not given: 40 % of it.
    """
    active = [fault for fault in faults if fault.active_at(instant)]
    if not active:
        return NO_EFFECTS
    effects = HouseEffects()
    failed: set[int] = set()
    opened: set[str] = set()
    for fault in active:
        params = fault.params
        if fault.kind == "heater_failure":
            failed.update(_heater_numbers(fault))
        elif fault.kind == "fan_failure":
            loss = float(params.get("capacity_loss", DEFAULT_FAN_CAPACITY_LOSS))
            effects.fan_capacity_factor *= max(0.0, 1.0 - loss)
        elif fault.kind == "stuck_inlet":
            effects.inlet_stuck_at = float(params.get("position", float("nan")))
        elif fault.kind == "sensor_drift":
            rate = float(params.get("rate_c_per_hour", DEFAULT_DRIFT_C_PER_HOUR))
            probe = fault.target or "Temperature_Sensor_1"
            effects.probe_drift_c[probe] = rate * _hours_since(fault, instant)
        elif fault.kind == "sensor_open":
            opened.add(fault.target or "Temperature_Sensor_1")
        elif fault.kind == "sensor_short":
            rail = float(params.get("rail_c", DEFAULT_SHORT_RAIL_C))
            effects.probe_short[fault.target or "Temperature_Sensor_1"] = rail
        elif fault.kind == "water_leak":
            effects.leak_l_per_hour += float(params.get("leak_l_per_hour", 0.4 * nominal_water_l_per_hour))
        elif fault.kind == "water_outage":
            effects.water_supply_factor *= float(params.get("supply_factor", 0.0))
            effects.outage_hours = max(effects.outage_hours, _hours_since(fault, instant))
        elif fault.kind == "power_failure":
            effects.power_failure = True
        elif fault.kind == "controller_offline":
            effects.offline = True
            effects.offline_status = int(params.get("connection_status", 2))
    effects.failed_heaters = frozenset(failed)
    effects.probe_open = frozenset(opened)
    return effects


def _heater_numbers(fault: FaultSpec) -> set[int]:
    """Return the failed heater numbers: ``Heater_3`` alone, or every heater when the target is empty."""
    target = fault.target or "Heaters"
    if target.startswith("Heater_"):
        return {int(target.removeprefix("Heater_"))}
    return set(range(1, 17))
