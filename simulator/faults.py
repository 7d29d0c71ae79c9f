"""Fault signatures, ground-truth export and a random fault-suite generator for evaluations."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulator.config import HOUSE_FAULT_KINDS, PORTAL_FAULT_KINDS, STEP, FarmConfig, FaultSpec

# Observable signature of each fault kind: the portal keys that move and how.
SIGNATURES: dict[str, dict[str, Any]] = {
    "heater_failure": {
        "affected_parameters": ["Average_Temperature", "Heaters", "HistoryRecord_Heaters_HeaterDevice_N"],
        "expected": "heaters report on while the average sags below Set_Temperature on cold nights; the "
        "failed heaters' runtime in command 43 stays 00:00; alarm 239",
    },
    "fan_failure": {
        "affected_parameters": ["Static_Pressure", "Average_Temperature", "Vent_Level", "Current_Level_CFM"],
        "expected": "static pressure drops at the same vent level, temperature and vent level climb; "
        "alarm 31 when pressure falls below 10 Pa",
    },
    "stuck_inlet": {
        "affected_parameters": ["Air_Vent_1_Position", "Static_Pressure"],
        "expected": "inlet position frozen while the vent level changes; static pressure rises above target "
        "as the level goes up (alarm 32) or falls as it goes down",
    },
    "sensor_drift": {
        "affected_parameters": ["Temperature_Sensor_N"],
        "expected": "one probe diverges from the others at rate_c_per_hour; the average moves by 1/8 of it",
    },
    "sensor_open": {
        "affected_parameters": ["Temperature_Sensor_N"],
        "expected": 'probe reads "- - -" in command 0 and "-9999" in the comparison screen; left out of the '
        "average; alarm 112 (126 for the outside probe)",
    },
    "sensor_short": {
        "affected_parameters": ["Temperature_Sensor_N"],
        "expected": "probe rails at rail_c (default 99.9 °C); left out of the average; "
        "alarm 111 (125 outside)",
    },
    "water_leak": {
        "affected_parameters": ["Daily_Water", "HistoryRecord_TotalDrink", "HistoryRecord_ChangeTotal"],
        "expected": "water keeps flowing in dark hours, daily water and the day's change rise, "
        "Inside_Humidity and ammonia go up; alarm 103 in the dark",
    },
    "water_outage": {
        "affected_parameters": ["Daily_Water", "Daily_Feed", "HistoryRecord_ChangeTotal"],
        "expected": "Daily_Water stays flat, feed intake halves after 6 h; alarm 102",
    },
    "power_failure": {
        "affected_parameters": [
            "Heaters",
            "Tunnel_Fans",
            "Exh_Fans",
            "Vent_Level",
            "Current_Level_CFM",
            "Static_Pressure",
            "Average_Temperature",
            "Daily_Feed",
        ],
        "expected": "all outputs off, airflow 0 and static pressure near 0, temperature drifts with the "
        "birds' heat and the outside, feed stops; alarm 165",
    },
    "controller_offline": {
        "affected_parameters": ["ConnectionStatus", "HouseConnectionStatus", "Time"],
        "expected": "ConnectionStatus 2 (or params.connection_status), every comparison value empty, Time "
        "frozen; command 0 returns eRNBLResult 10; HousesAlarms has alarm 173",
    },
    "http_5xx": {"affected_parameters": [], "expected": "HTTP status params.status (default 503), HTML body"},
    "slow_response": {
        "affected_parameters": [],
        "expected": "response delayed by params.delay_seconds (default 2)",
    },
    "expired_session": {
        "affected_parameters": [],
        "expected": "sessions opened before the fault start answer isInSession:false once; a new login works",
    },
    "malformed_json": {"affected_parameters": [], "expected": "HTTP 200 with a truncated JSON body"},
    "bom": {"affected_parameters": [], "expected": "UTF-8 byte order mark before the JSON"},
    "not_succeeded": {
        "affected_parameters": [],
        "expected": "HTTP 200 with isSucceed:false, reponseObj null and ErrorObj.ErrorCode 10",
    },
    "login_without_tokens": {
        "affected_parameters": [],
        "expected": "Login answers isSucceed:true with FarmUser, FarmConnectionInfo and WebServerUrl null",
    },
    "missing_dsdata": {
        "affected_parameters": [],
        "expected": "RNBL_GetCommandData answers with reponseObj.dsData null",
    },
}


def ground_truth_entry(fault: FaultSpec, start: datetime) -> dict[str, Any]:
    """Return the ground-truth record of one fault, with simulated times and step numbers."""
    signature = SIGNATURES[fault.kind]
    end_step = None if fault.end is None else round((fault.end - start) / STEP)
    return {
        "fault_id": fault.fault_id,
        "kind": fault.kind,
        "category": "house" if fault.kind in HOUSE_FAULT_KINDS else "portal",
        "farm_id": fault.farm_id or None,
        "house": fault.house,
        "target": fault.target,
        "start": fault.start.isoformat(),
        "end": fault.end.isoformat() if fault.end else None,
        "start_step": round((fault.start - start) / STEP),
        "end_step": end_step,
        "params": dict(fault.params),
        "affected_parameters": list(signature["affected_parameters"]),
        "expected_signature": signature["expected"],
    }


def _target_for(kind: str, rng: random.Random) -> str | None:
    if kind in ("sensor_drift", "sensor_open", "sensor_short"):
        return f"Temperature_Sensor_{rng.randint(1, 8)}"
    if kind == "heater_failure":
        return None
    if kind == "fan_failure":
        return "Tunnel_Fans"
    if kind == "stuck_inlet":
        return "Air_Vent_1_Position"
    if kind in ("water_leak", "water_outage"):
        return "Water_1"
    return None


def _duration_for(kind: str, rng: random.Random) -> timedelta:
    hours = {
        "heater_failure": (8, 24),
        "fan_failure": (6, 24),
        "stuck_inlet": (6, 18),
        "sensor_drift": (24, 72),
        "sensor_open": (2, 12),
        "sensor_short": (2, 12),
        "water_leak": (12, 36),
        "water_outage": (6, 24),
        "power_failure": (1, 3),
        "controller_offline": (1, 6),
    }[kind]
    return timedelta(minutes=5 * round(rng.uniform(*hours) * 12))


# Local start hours at which a fault shows its signature best: heaters fail into a cold night, leaks
# run through the dark hours, inlets stick before the morning ramp of the vent level, fans fail at midday.
_PREFERRED_START_HOUR = {"heater_failure": 19, "water_leak": 20, "stuck_inlet": 6, "fan_failure": 11}


def _align_to_local_hour(begin: datetime, kind: str, zone: ZoneInfo) -> datetime:
    """Move ``begin`` to the next preferred local hour of the fault kind, if it has one."""
    hour = _PREFERRED_START_HOUR.get(kind)
    if hour is None:
        return begin
    local = begin.astimezone(zone)
    aligned = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if aligned < local:
        aligned += timedelta(days=1)
    return aligned.astimezone(begin.tzinfo)


def make_fault_suite(
    seed: int,
    farms: tuple[FarmConfig, ...],
    start: datetime,
    duration: timedelta = timedelta(days=7),
    faults_per_kind: int = 1,
    control_fraction: float = 0.3,
    kinds: tuple[str, ...] = HOUSE_FAULT_KINDS,
    portal_faults: bool = True,
) -> tuple[tuple[FaultSpec, ...], list[tuple[str, int]]]:
    """Place faults of every kind on random houses and return them with the fault-free control houses.

    ``control_fraction`` of all houses (at least one) get no house fault. Each fault starts on a step
    boundary within the first 70 % of ``duration`` and ends before ``duration``. One house carries
    at most one fault at a time. Portal faults (one of each kind, on random accounts) are added when
    ``portal_faults`` is set. The same arguments always return the same suite.

    Heater failures start at 19:00 local time, leaks at 20:00, stuck inlets at 06:00 and fan failures
    at 11:00, when their signatures show best. NOTE: placement ignores the weather, so a heater failure
    on a warm night may leave little trace; the ground truth still lists it.
    """
    rng = random.Random(seed)
    houses = [(farm.farm_id, number) for farm in farms for number in range(1, farm.houses + 1)]
    controls_count = max(1, round(len(houses) * control_fraction))
    shuffled = houses[:]
    rng.shuffle(shuffled)
    controls = sorted(shuffled[:controls_count])
    candidates = shuffled[controls_count:]
    if not candidates:
        raise ValueError(f"no house left for faults after keeping {controls_count} control houses")
    busy: dict[tuple[str, int], list[tuple[datetime, datetime]]] = {}
    zones = {farm.farm_id: ZoneInfo(farm.timezone) for farm in farms}
    faults: list[FaultSpec] = []
    steps = int(duration / STEP)
    for kind in kinds:
        for copy in range(faults_per_kind):
            for _attempt in range(50):
                farm_id, house = rng.choice(candidates)
                length = _duration_for(kind, rng)
                begin = start + STEP * rng.randint(12, max(13, int(steps * 0.7)))
                begin = _align_to_local_hour(begin, kind, zones[farm_id])
                finish = min(begin + length, start + duration)
                overlaps = any(
                    begin < other_end and other_begin < finish
                    for other_begin, other_end in busy.get((farm_id, house), [])
                )
                if not overlaps and finish > begin:
                    break
            else:
                raise ValueError(f"could not place a {kind} fault without overlaps; use fewer faults")
            busy.setdefault((farm_id, house), []).append((begin, finish))
            params: dict[str, float] = {}
            if kind == "sensor_drift":
                params["rate_c_per_hour"] = round(rng.uniform(0.03, 0.12), 3)
            if kind == "fan_failure":
                params["capacity_loss"] = round(rng.uniform(0.3, 0.6), 2)
            faults.append(
                FaultSpec(
                    f"{kind}-{copy + 1}", kind, farm_id, begin, finish, house, _target_for(kind, rng), params
                )
            )
    if portal_faults:
        for kind in PORTAL_FAULT_KINDS:
            farm = rng.choice(farms)
            begin = start + STEP * rng.randint(6, max(7, int(steps * 0.8)))
            params = {"probability": 0.5}
            if kind == "http_5xx":
                params["status"] = float(rng.choice((502, 503, 504)))
            if kind == "slow_response":
                params["delay_seconds"] = 1.0
            faults.append(
                FaultSpec(f"{kind}-1", kind, farm.farm_id, begin, begin + STEP * 6, None, None, params)
            )
    return tuple(faults), controls
