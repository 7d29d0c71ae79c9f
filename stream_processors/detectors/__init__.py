"""Per-sensor online anomaly detectors and the choice of detector per signal kind."""

from __future__ import annotations

from stream_processors.detectors.base import Detector
from stream_processors.detectors.counter import CounterRateDetector
from stream_processors.detectors.device import DeviceStateDetector
from stream_processors.detectors.level import RobustLevelDetector

# Smallest spread per signal kind, in the canonical unit: below it noise is not worth an alert.
MIN_SPREAD = {"temperature": 0.2, "humidity": 1.0, "pressure": 1.0, "gas": 50.0}


def detector_for(signal: str, parameter: str) -> Detector | None:
    """Return a new detector for a parameter's signal kind, or None for signals left to the rules."""
    if signal in MIN_SPREAD:
        return RobustLevelDetector(min_spread=MIN_SPREAD[signal])
    if signal == "counter" and parameter.endswith(".daily"):
        return CounterRateDetector()
    if signal == "counter":
        return RobustLevelDetector(min_spread=1.0)
    if signal == "device_state" and parameter.endswith(".running"):
        return DeviceStateDetector()
    return None


__all__ = [
    "CounterRateDetector",
    "Detector",
    "DeviceStateDetector",
    "RobustLevelDetector",
    "detector_for",
]
