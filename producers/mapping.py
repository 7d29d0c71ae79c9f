"""Portal keys and the farmstream parameters they map to (names from ``schemas.parameters``).

Live keys are the ``ParameterKeyName`` of ``RNBL_GetCommandData`` rows and the categories of
``GetSiteControllersInfo.DicComparisonItems``. The two name the same measurement differently
(``Average_Temperature`` and ``Temperature_Current``), so both map to one parameter. History keys
are per command (35 temperature, 40 water, 41 feed, 43 heaters) because different history commands
reuse field names. A key missing here is counted as unmapped and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["measure", "device", "runtime"]
"""``measure``: a number in the parameter's unit; ``device``: a running-device count whose data is
the installed count; ``runtime``: an ``H:MM`` duration."""


@dataclass(frozen=True)
class Rule:
    """The rule that turns one portal key into a reading."""

    parameter: str
    kind: Kind = "measure"
    target_keys: tuple[str, ...] = ()
    """Keys whose value is this parameter's target, first present wins."""
    installed_parameter: str | None = None
    counted_by: str | None = None
    """Key of a count that must be above 0 for the value to exist (no weighings means no weight)."""


_TEMPERATURE_TARGET = ("Set_Temperature",)
_PRESSURE_TARGET = ("Target_Pressure",)

LIVE_RULES: dict[str, Rule] = {
    "Average_Temperature": Rule("temperature.average", target_keys=_TEMPERATURE_TARGET),
    "Temperature_Current": Rule("temperature.average", target_keys=_TEMPERATURE_TARGET),
    "Set_Temperature": Rule("temperature.target"),
    "Outside_Temperature": Rule("temperature.outside"),
    "Tunnel_Temperature": Rule("temperature.tunnel"),
    "Wind_Chill_Temperature": Rule("temperature.wind_chill"),
    "Attic_Temperature": Rule("temperature.attic"),
    **{f"Temperature_Sensor_{n}": Rule(f"temperature.sensor_{n}") for n in range(1, 37)},
    "Inside_Humidity": Rule("humidity.inside"),
    "Outside_Humidity": Rule("humidity.outside"),
    "Humidity_1": Rule("humidity.sensor_1"),
    # The comparison category Humidity_Current is captioned "Humidity 1" by the portal.
    "Humidity_Current": Rule("humidity.sensor_1"),
    "Humidity_2": Rule("humidity.sensor_2"),
    "Static_Pressure": Rule("static_pressure", target_keys=_PRESSURE_TARGET),
    "Target_Pressure": Rule("static_pressure.target"),
    "CO2": Rule("co2"),
    "Ammonia": Rule("ammonia"),
    "Daily_Water": Rule("water.daily"),
    "Water_Daily": Rule("water.daily"),
    "Daily_Feed": Rule("feed.daily"),
    "Feed_Daily": Rule("feed.daily"),
    "Water_Per_Hour": Rule("water.per_hour"),
    "Vent_Level": Rule("ventilation.level"),
    "Current_Level_CFM": Rule("ventilation.airflow"),
    "CFM_Percentage": Rule("ventilation.airflow_percent"),
    "Vent_Level_Percents": Rule("ventilation.airflow_percent"),
    "Vent_Mode": Rule("ventilation.mode"),
    "House_Mode": Rule("house.mode"),
    "HouseMode": Rule("house.mode"),
    "Growth_Day": Rule("flock.growth_day"),
    "Current_Birds_Count_In_House": Rule("flock.birds"),
    "Birds_Livability": Rule("flock.livability"),
    "Livablity_Percents": Rule("flock.livability"),
    "Average_Weight": Rule("flock.average_weight", counted_by="Number_Of_Weights"),
    "Wind_Speed": Rule("wind.speed"),
    "Wind_Direction": Rule("wind.direction"),
    "WOD_Pressue": Rule("water.pressure"),
    "WodPressure": Rule("water.pressure"),
    **{f"Air_Vent_{n}_Position": Rule(f"inlet.position_{n}") for n in range(1, 5)},
    **{f"Tunnel_Curtain_{n}_Position": Rule(f"curtain.tunnel_{n}_position") for n in range(1, 7)},
    **{f"Light{n}": Rule(f"light.dimmer_{n}") for n in range(1, 11)},
}

_DEVICE_KEYS = {
    "Heaters": "heaters",
    "Tunnel_Fans": "tunnel_fans",
    "Exh_Fans": "exhaust_fans",
    "Stir_Fans": "stir_fans",
    "Cooling_Pad": "cooling_pad",
    "Foggers": "foggers",
    "Light": "lights",
    "Feeding": "feeding",
    "Auger": "auger",
}
for _key, _device in _DEVICE_KEYS.items():
    LIVE_RULES[_key] = Rule(
        f"device.{_device}.running", kind="device", installed_parameter=f"device.{_device}.installed"
    )

# Keys read into HouseStatus rather than readings.
CLOCK_KEYS = ("Time",)
SIREN_KEYS = ("Siren", "Alarm")
GROWTH_DAY_KEYS = ("Growth_Day",)
HOUSE_MODE_KEYS = ("House_Mode", "HouseMode")

HISTORY_COMMANDS = (35, 40, 41, 43)
"""History commands fetched once a day: temperature, water, feed and heaters."""

HISTORY_RULES: dict[int, dict[str, Rule]] = {
    35: {
        "QueueRecord_MinimumValue": Rule("history.temperature.min"),
        "QueueRecord_AverageValue": Rule("history.temperature.average"),
        "QueueRecord_MaximumValue": Rule("history.temperature.max"),
    },
    40: {
        "HistoryRecord_TotalDrink": Rule("history.water.total"),
        "HistoryRecord_WaterPerBird": Rule("history.water.per_bird"),
        **{f"HistoryRecord_DailyWater_{n}": Rule(f"history.water.meter_{n}") for n in range(1, 5)},
        "HistoryRecord_Cooling": Rule("history.water.cooling"),
        "HistoryRecord_Fogger": Rule("history.water.fogger"),
    },
    41: {
        "HistoryRecord_FeederTotal": Rule("history.feed.total"),
        "HistoryRecord_FeedPerBird": Rule("history.feed.per_bird"),
        **{f"HistoryRecord_Feeder_{n}": Rule(f"history.feed.feeder_{n}") for n in range(1, 5)},
    },
    43: {
        f"HistoryRecord_Heaters_HeaterDevice_{n}": Rule(f"history.heater_{n}.runtime", kind="runtime")
        for n in range(1, 17)
    },
}


def live_rule(key: str) -> Rule | None:
    """Return the rule of a live key, or None when farmstream does not publish it."""
    return LIVE_RULES.get(key)


def history_rule(command_id: int, field: str) -> Rule | None:
    """Return the rule of a history field of a command, or None when it is not published."""
    return HISTORY_RULES.get(command_id, {}).get(field)
