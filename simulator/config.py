"""Configuration of the portal simulator: accounts (farms), faults, replay and clock, as dataclasses or JSON.

JSON keys are the dataclass field names; times are ISO 8601 with an offset (simulated time). See the
package README for a complete example.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from simulator.exceptions import ConfigError

STEP = timedelta(minutes=5)
"""One simulated step: the controller's control interval and the scraper's polling interval."""

DEFAULT_START = datetime(2026, 4, 24, 17, 15, tzinfo=UTC)
"""12:15 local time in America/Chicago on the day the default flocks reach growth day 21."""

HOUSE_FAULT_KINDS = (
    "heater_failure",
    "fan_failure",
    "stuck_inlet",
    "sensor_drift",
    "sensor_open",
    "sensor_short",
    "water_leak",
    "water_outage",
    "power_failure",
    "controller_offline",
)
PORTAL_FAULT_KINDS = (
    "http_5xx",
    "slow_response",
    "expired_session",
    "malformed_json",
    "bom",
    "not_succeeded",
    "missing_dsdata",
    "login_without_tokens",
)

TemperatureUnit = Literal["C", "F"]
WeightUnit = Literal["kg", "lb"]
PressureUnit = Literal["Pa", "inWC"]
CapacityUnit = Literal["m3h", "CFM"]
VolumeUnit = Literal["L", "gal"]


@dataclass(frozen=True)
class UnitSettings:
    """Units an account is set to; the portal renders every value in them."""

    temperature: TemperatureUnit = "C"
    weight: WeightUnit = "kg"
    pressure: PressureUnit = "Pa"
    capacity: CapacityUnit = "m3h"
    volume: VolumeUnit = "L"

    @classmethod
    def imperial(cls) -> UnitSettings:
        """Return the US account settings: °F, lb, inches of water column, CFM and US gallons."""
        return cls("F", "lb", "inWC", "CFM", "gal")


@dataclass(frozen=True)
class FarmConfig:
    """One portal account with its gateway and houses."""

    farm_id: str
    username: str
    password: str
    host_number: int = 6
    houses: int = 6
    timezone: str = "America/Chicago"
    units: UnitSettings = field(default_factory=UnitSettings)
    display_name: str = ""
    birds_per_house: int = 12000
    growth_day_at_start: int = 21
    """Growth day of every flock on the farm at the configured start instant (local date)."""
    weather_mean_c: float = 23.5
    weather_amplitude_c: float = 4.5
    dew_point_c: float = 20.5
    co2_sensor: bool = False
    ammonia_sensor: bool = False
    bom: bool = False
    """Prefix every response body of this account with a UTF-8 byte order mark."""

    def __post_init__(self) -> None:
        if not 1 <= self.houses <= 8:
            raise ConfigError(f"farm {self.farm_id!r}: houses must be 1..8, got {self.houses}")
        if self.host_number < 1:
            raise ConfigError(f"farm {self.farm_id!r}: host_number must be positive, got {self.host_number}")
        if not self.username or not self.password:
            raise ConfigError(f"farm {self.farm_id!r}: username and password must not be empty")


@dataclass(frozen=True)
class FaultSpec:
    """A fault injected from ``start`` to ``end`` (simulated time; ``end`` None means until the run ends).

    House faults (kinds in HOUSE_FAULT_KINDS) need ``house``; portal faults (PORTAL_FAULT_KINDS) apply to
    the farm's account, or to every account when ``farm_id`` is empty. ``target`` names the device or
    probe (for example ``Temperature_Sensor_3``); ``params`` tune the fault (see the README).
    """

    fault_id: str
    kind: str
    farm_id: str
    start: datetime
    end: datetime | None = None
    house: int | None = None
    target: str | None = None
    params: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in HOUSE_FAULT_KINDS + PORTAL_FAULT_KINDS:
            known = ", ".join(HOUSE_FAULT_KINDS + PORTAL_FAULT_KINDS)
            raise ConfigError(f"fault {self.fault_id!r}: unknown kind {self.kind!r}; use one of {known}")
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ConfigError(f"fault {self.fault_id!r}: start and end need a UTC offset")
        if self.end is not None and self.end <= self.start:
            raise ConfigError(f"fault {self.fault_id!r}: end {self.end} is not after start {self.start}")
        if self.kind in HOUSE_FAULT_KINDS and (self.house is None or not self.farm_id):
            raise ConfigError(f"fault {self.fault_id!r}: kind {self.kind} needs a farm_id and a house number")
        probes = {f"Temperature_Sensor_{number}" for number in range(1, 10)}
        if self.kind.startswith("sensor_") and self.target is not None and self.target not in probes:
            raise ConfigError(
                f"fault {self.fault_id!r}: target {self.target!r} is not a simulated probe; "
                "use Temperature_Sensor_1..8 (inside) or Temperature_Sensor_9 (outside)"
            )
        heaters = {f"Heater_{number}" for number in range(1, 17)} | {"Heaters"}
        if self.kind == "heater_failure" and self.target is not None and self.target not in heaters:
            raise ConfigError(
                f"fault {self.fault_id!r}: target {self.target!r} must be Heater_1..16 or Heaters"
            )

    def active_at(self, instant: datetime) -> bool:
        """Return whether the fault is active at a simulated instant."""
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(frozen=True)
class ReplaySpec:
    """One probe of one house follows a recorded ``timestamp,value`` series, one row per step.

    The file's ``source_min..source_max`` (default: the file's own min and max) maps linearly onto
    ``low_c..high_c`` in °C; row ``start_row`` is served at the simulator's start instant.
    """

    csv_path: Path
    farm_id: str
    house: int = 1
    sensor: str = "Temperature_Sensor_1"
    low_c: float = 15.0
    high_c: float = 45.0
    source_min: float | None = None
    source_max: float | None = None
    start_row: int = 0


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that fixes a run: with the same config and seed the served payloads are identical."""

    farms: tuple[FarmConfig, ...]
    seed: int = 1
    start: datetime = DEFAULT_START
    faults: tuple[FaultSpec, ...] = ()
    replay: ReplaySpec | None = None
    step_seconds: float | None = None
    """Accelerated clock: one simulated step every N real seconds. None: the clock moves on demand."""
    advance_on_scrape: bool = True
    """On-demand clock: a second GetSiteControllersInfo by one account at the same step advances one step."""
    session_lifetime_seconds: float = 3600.0
    """Real seconds after login until the portal returns isInSession:false."""
    warmup: bool = True
    """Simulate from local midnight of the start day so the meters and the day's history are filled."""

    def __post_init__(self) -> None:
        if not self.farms:
            raise ConfigError("the simulator needs at least one farm")
        if self.start.tzinfo is None:
            raise ConfigError(f"start {self.start} needs a UTC offset")
        if self.step_seconds is not None and self.step_seconds <= 0:
            raise ConfigError(f"step_seconds must be positive, got {self.step_seconds}")
        ids = [farm.farm_id for farm in self.farms]
        users = [farm.username for farm in self.farms]
        if len(set(ids)) != len(ids) or len(set(users)) != len(users):
            raise ConfigError("farm ids and usernames must be unique")
        for fault in self.faults:
            if fault.farm_id and fault.farm_id not in ids:
                raise ConfigError(f"fault {fault.fault_id!r}: unknown farm {fault.farm_id!r}")
            farm = self.farm(fault.farm_id) if fault.farm_id else None
            if farm is not None and fault.house is not None and not 1 <= fault.house <= farm.houses:
                raise ConfigError(f"fault {fault.fault_id!r}: farm {farm.farm_id} has no house {fault.house}")
        fault_ids = [fault.fault_id for fault in self.faults]
        if len(set(fault_ids)) != len(fault_ids):
            raise ConfigError("fault ids must be unique")
        if self.replay is not None:
            if self.replay.farm_id not in ids:
                raise ConfigError(f"replay: unknown farm {self.replay.farm_id!r}")
            houses = self.farm(self.replay.farm_id).houses
            if not 1 <= self.replay.house <= houses:
                raise ConfigError(f"replay: farm {self.replay.farm_id} has no house {self.replay.house}")
            if self.replay.sensor not in {f"Temperature_Sensor_{number}" for number in range(1, 9)}:
                raise ConfigError(f"replay: sensor {self.replay.sensor!r} must be Temperature_Sensor_1..8")
            if self.replay.high_c <= self.replay.low_c:
                raise ConfigError(f"replay: range {self.replay.low_c}..{self.replay.high_c} °C is empty")

    def farm(self, farm_id: str) -> FarmConfig:
        """Return the farm with this id."""
        for farm in self.farms:
            if farm.farm_id == farm_id:
                return farm
        raise ConfigError(f"unknown farm {farm_id!r}")


def default_farms() -> tuple[FarmConfig, ...]:
    """Return four accounts: a capture-like farm, two more metric farms and one US-unit farm."""
    return (
        FarmConfig(
            "farm-1",
            "grower1@example.com",
            "secret-1",
            host_number=6,
            houses=6,
            display_name="Pine Ridge",
            weather_mean_c=22.0,
        ),
        FarmConfig(
            "farm-2",
            "grower2@example.com",
            "secret-2",
            host_number=3,
            houses=8,
            display_name="Cedar Creek",
            birds_per_house=14000,
            co2_sensor=True,
            ammonia_sensor=True,
            weather_mean_c=22.0,
            weather_amplitude_c=6.0,
            dew_point_c=15.0,
        ),
        FarmConfig(
            "farm-3",
            "grower3@example.com",
            "secret-3",
            host_number=6,
            houses=7,
            display_name="Oak Hollow",
            timezone="America/New_York",
            growth_day_at_start=9,
            co2_sensor=True,
            weather_mean_c=18.0,
            dew_point_c=12.0,
        ),
        FarmConfig(
            "farm-us",
            "grower4@example.com",
            "secret-4",
            host_number=4,
            houses=8,
            display_name="Magnolia",
            units=UnitSettings.imperial(),
            birds_per_house=25000,
            growth_day_at_start=30,
            ammonia_sensor=True,
            bom=True,
        ),
    )


def default_config(**overrides: Any) -> SimulatorConfig:
    """Return the default four-farm configuration, with fields replaced by ``overrides``."""
    return replace(SimulatorConfig(farms=default_farms()), **overrides)


def _parse_time(value: Any, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ConfigError(f"{where}: invalid ISO time {value!r}") from error
    if parsed.tzinfo is None:
        raise ConfigError(f"{where}: time {value!r} needs a UTC offset, for example +00:00")
    return parsed


def _build(cls: type[Any], data: dict[str, Any], where: str) -> Any:
    names = {item.name for item in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known keys are {sorted(names)}")
    try:
        return cls(**data)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


def config_from_dict(data: dict[str, Any]) -> SimulatorConfig:
    """Build a configuration from parsed JSON; missing sections take the defaults."""
    data = dict(data)
    farms_data = data.pop("farms", None)
    farms: tuple[FarmConfig, ...]
    if farms_data is None:
        farms = default_farms()
    else:
        built = []
        for index, item in enumerate(farms_data):
            item = dict(item)
            if "units" in item:
                item["units"] = _build(UnitSettings, item["units"], f"farms[{index}].units")
            built.append(_build(FarmConfig, item, f"farms[{index}]"))
        farms = tuple(built)
    faults = []
    for index, item in enumerate(data.pop("faults", [])):
        item = dict(item)
        where = f"faults[{index}]"
        item["start"] = _parse_time(item.get("start"), where)
        if item.get("end") is not None:
            item["end"] = _parse_time(item["end"], where)
        faults.append(_build(FaultSpec, item, where))
    replay = None
    if data.get("replay") is not None:
        item = dict(data.pop("replay"))
        item["csv_path"] = Path(item.get("csv_path", ""))
        replay = _build(ReplaySpec, item, "replay")
    else:
        data.pop("replay", None)
    if "start" in data:
        data["start"] = _parse_time(data["start"], "start")
    config: SimulatorConfig = _build(
        SimulatorConfig, {**data, "farms": farms, "faults": tuple(faults), "replay": replay}, "config"
    )
    return config


def load_config(path: Path) -> SimulatorConfig:
    """Read a JSON configuration file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"simulator config {path} not found") from error
    except json.JSONDecodeError as error:
        raise ConfigError(f"simulator config {path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"simulator config {path} must hold a JSON object")
    return config_from_dict(data)


def fault_to_dict(fault: FaultSpec) -> dict[str, Any]:
    """Return the JSON form of a fault, the inverse of the ``faults`` entries of a config file."""
    return {
        "fault_id": fault.fault_id,
        "kind": fault.kind,
        "farm_id": fault.farm_id,
        "house": fault.house,
        "target": fault.target,
        "start": fault.start.isoformat(),
        "end": fault.end.isoformat() if fault.end else None,
        "params": dict(fault.params),
    }
