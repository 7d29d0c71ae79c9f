"""Catalogue of farmstream's parameter names, with their unit and the kind of signal they carry.

The scraper maps each portal key to one of these names; the stream processors choose a detector
by ``signal``; the API and dashboards list them. A name is ``group.detail`` in lower case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.events import Unit

Signal = Literal[
    "temperature",
    "humidity",
    "pressure",
    "gas",
    "counter",
    "device_state",
    "position",
    "level",
    "flock",
    "weather",
    "runtime",
    "daily_summary",
]


@dataclass(frozen=True)
class Parameter:
    """A parameter farmstream publishes readings for."""

    name: str
    unit: Unit
    signal: Signal
    description: str
    minimum: float | None = None
    maximum: float | None = None
    """Physical range; a value outside it is published with quality out_of_range."""


def _temperature(name: str, description: str) -> Parameter:
    return Parameter(name, "degC", "temperature", description, minimum=-40.0, maximum=60.0)


_PARAMETERS: list[Parameter] = [
    _temperature("temperature.average", "Average inside temperature over the active probes."),
    _temperature("temperature.target", "Target temperature from the controller's curve."),
    _temperature("temperature.outside", "Outside temperature."),
    _temperature("temperature.tunnel", "Tunnel temperature."),
    _temperature("temperature.wind_chill", "Wind-chill temperature in tunnel mode."),
    _temperature("temperature.attic", "Attic temperature."),
    *[_temperature(f"temperature.sensor_{n}", f"Temperature probe {n}.") for n in range(1, 37)],
    Parameter("humidity.inside", "%", "humidity", "Inside relative humidity.", 0.0, 100.0),
    Parameter("humidity.outside", "%", "humidity", "Outside relative humidity.", 0.0, 100.0),
    Parameter("humidity.sensor_1", "%", "humidity", "Humidity probe 1.", 0.0, 100.0),
    Parameter("humidity.sensor_2", "%", "humidity", "Humidity probe 2.", 0.0, 100.0),
    Parameter("static_pressure", "Pa", "pressure", "Differential static pressure.", -50.0, 250.0),
    Parameter("static_pressure.target", "Pa", "pressure", "Static pressure target.", -50.0, 250.0),
    Parameter("co2", "ppm", "gas", "Carbon dioxide concentration.", 0.0, 20000.0),
    Parameter("ammonia", "ppm", "gas", "Ammonia concentration.", 0.0, 200.0),
    Parameter(
        "water.daily", "L", "counter", "Water used since midnight (meter counts up, resets daily).", 0.0
    ),
    Parameter("feed.daily", "kg", "counter", "Feed used since midnight (counts up, resets daily).", 0.0),
    Parameter("water.per_hour", "L", "counter", "Water used in the last hour.", 0.0),
    Parameter("ventilation.level", "count", "level", "Ventilation level.", 0.0, 100.0),
    Parameter("ventilation.airflow", "m3/h", "level", "Air delivered at the current level.", 0.0),
    Parameter("ventilation.airflow_percent", "%", "level", "Air delivered, percent of maximum.", 0.0, 100.0),
    Parameter("ventilation.mode", "state", "level", "Ventilation mode: 1 minimum, 2 tunnel, 4 natural."),
    Parameter("house.mode", "state", "flock", "House mode (0 full house, 4 empty house, ...)."),
    Parameter("flock.growth_day", "count", "flock", "Growth day of the flock.", -7.0, 120.0),
    Parameter("flock.birds", "count", "flock", "Birds in the house.", 0.0),
    Parameter("flock.livability", "%", "flock", "Livability.", 0.0, 100.0),
    Parameter("flock.average_weight", "kg", "flock", "Average bird weight.", 0.0, 10.0),
    Parameter("wind.speed", "m/s", "weather", "Wind speed.", 0.0, 80.0),
    Parameter("wind.direction", "deg", "weather", "Wind direction.", 0.0, 360.0),
    Parameter("water.pressure", "Pa", "pressure", "Water-on-demand line pressure.", 0.0),
    *[
        Parameter(f"inlet.position_{n}", "%", "position", f"Air inlet {n} opening.", 0.0, 100.0)
        for n in range(1, 5)
    ],
    *[
        Parameter(f"curtain.tunnel_{n}_position", "%", "position", f"Tunnel curtain {n} opening.", 0.0, 100.0)
        for n in range(1, 7)
    ],
    *[
        Parameter(f"light.dimmer_{n}", "%", "position", f"Light dimmer {n}.", 0.0, 100.0)
        for n in range(1, 11)
    ],
]

_DEVICES = {
    "heaters": "Heaters",
    "tunnel_fans": "Tunnel fans",
    "exhaust_fans": "Exhaust (minimum-ventilation) fans",
    "stir_fans": "Stir fans",
    "cooling_pad": "Cooling-pad pumps",
    "foggers": "Foggers",
    "lights": "Light relays",
    "feeding": "Feed lines",
    "auger": "Augers",
}
for _device, _label in _DEVICES.items():
    _PARAMETERS.append(
        Parameter(f"device.{_device}.running", "count", "device_state", f"{_label} running.", 0.0)
    )
    _PARAMETERS.append(
        Parameter(f"device.{_device}.installed", "count", "device_state", f"{_label} installed.", 0.0)
    )

_PARAMETERS += [
    _temperature("history.temperature.min", "Daily minimum inside temperature."),
    _temperature("history.temperature.average", "Daily average inside temperature."),
    _temperature("history.temperature.max", "Daily maximum inside temperature."),
    Parameter("history.water.total", "L", "daily_summary", "Daily water drunk, all meters.", 0.0),
    Parameter("history.water.per_bird", "L", "daily_summary", "Daily water per bird.", 0.0),
    *[
        Parameter(f"history.water.meter_{n}", "L", "daily_summary", f"Daily water, meter {n}.", 0.0)
        for n in range(1, 5)
    ],
    Parameter("history.water.cooling", "L", "daily_summary", "Daily cool-pad water.", 0.0),
    Parameter("history.water.fogger", "L", "daily_summary", "Daily fogger water.", 0.0),
    Parameter("history.feed.total", "kg", "daily_summary", "Daily feed, all feeders.", 0.0),
    Parameter("history.feed.per_bird", "kg", "daily_summary", "Daily feed per bird.", 0.0),
    *[
        Parameter(f"history.feed.feeder_{n}", "kg", "daily_summary", f"Daily feed, feeder {n}.", 0.0)
        for n in range(1, 5)
    ],
    *[
        Parameter(
            f"history.heater_{n}.runtime", "s", "runtime", f"Daily runtime of heater {n}.", 0.0, 86400.0
        )
        for n in range(1, 17)
    ],
]

PARAMETERS: dict[str, Parameter] = {parameter.name: parameter for parameter in _PARAMETERS}


def get_parameter(name: str) -> Parameter:
    """Return the catalogue entry of a parameter name, raising KeyError with the name if unknown."""
    try:
        return PARAMETERS[name]
    except KeyError:
        raise KeyError(f"unknown parameter {name!r}: add it to schemas.parameters") from None
