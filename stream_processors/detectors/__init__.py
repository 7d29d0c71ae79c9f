"""Per-sensor online anomaly detectors and the choice of detector per signal kind."""

from __future__ import annotations

from stream_processors.detectors.base import Detector
from stream_processors.detectors.counter import CounterRateDetector
from stream_processors.detectors.device import DeviceStateDetector
from stream_processors.detectors.level import RobustLevelDetector

# Smallest spread per signal kind, in the canonical unit: below it noise is not worth an alert.
# Humidity and gases have no detector: they follow the ventilation level, hence the weather, and
# the welfare-limit rules and the ventilation advice judge them.
# TODO: a detector conditioned on the ventilation level could model them without false alarms.
MIN_SPREAD = {"temperature": 0.2, "pressure": 1.0}


# Weather and values derived from it: a hot afternoon or a windy night is not a fault of the house.
WEATHER_PARAMETERS = frozenset(
    {
        "temperature.outside",
        "temperature.wind_chill",
        "temperature.tunnel",
        "humidity.outside",
        "wind.speed",
        "wind.direction",
    }
)
# Devices the controller switches with the weather; their faults show in temperature and pressure.
WEATHER_DRIVEN_DEVICES = ("heaters", "tunnel_fans", "exhaust_fans", "stir_fans", "cooling_pad", "foggers")


def detector_for(signal: str, parameter: str) -> Detector | None:
    """Return a new detector for a parameter's signal kind, or None for signals left to the rules."""
    if parameter in WEATHER_PARAMETERS or parameter.endswith(".target"):
        return None  # A set point is the grower's setting and steps by design.
    if signal in MIN_SPREAD:
        return RobustLevelDetector(min_spread=MIN_SPREAD[signal])
    if signal == "counter" and parameter.endswith(".daily"):
        # 6 spreads of the ratio to the same hour's usual rate: a 5-minute meter step is coarse.
        return CounterRateDetector(threshold=6.0)
    if signal == "counter":
        return RobustLevelDetector(min_spread=1.0)
    if signal == "device_state" and parameter.endswith(".running"):
        device = parameter.split(".")[1]
        return None if device in WEATHER_DRIVEN_DEVICES else DeviceStateDetector()
    return None


__all__ = [
    "CounterRateDetector",
    "Detector",
    "DeviceStateDetector",
    "RobustLevelDetector",
    "detector_for",
]
