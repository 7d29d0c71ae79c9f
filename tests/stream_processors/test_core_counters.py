"""Daily water meters through the processing core, judged by the light program (pure, no broker)."""

from __future__ import annotations

from datetime import datetime

from sp_events import START, STEP, make_reading

from schemas.events import Alert
from stream_processors.core import Output, Processor

STEPS_PER_DAY = 288


def _water_rate(hour: float) -> float:
    """Return the litres per 5 minutes of a flock: little in the dark, most after lights-on."""
    if not 4.0 <= hour < 22.0:
        return 0.25
    if hour < 6.0:
        return 18.0
    if 14.0 <= hour < 19.0:
        return 13.0
    return 10.0


def _feed_day(processor: Processor, day: int, stop_after_hour: float | None = None) -> list[Output]:
    outputs: list[Output] = []
    total = 0.0
    for step in range(STEPS_PER_DAY):
        at: datetime = START + (day * STEPS_PER_DAY + step) * STEP
        hour = step / 12
        clock = f"{int(hour):02d}:{step % 12 * 5:02d}"
        lit = 1.0 if 4.0 <= hour < 22.0 else 0.0
        if stop_after_hour is None or hour < stop_after_hour:
            total += _water_rate(hour) * (1.0 + 0.04 * ((step * 7) % 5 - 2) / 2)
        outputs += processor.process(make_reading("device.lights.running", lit, at, unit="count"))
        outputs += processor.process(
            make_reading("water.daily", round(total), at, unit="L", controller_time=clock)
        )
    return outputs


def _water_anomalies(outputs: list[Output]) -> list[Alert]:
    return [
        event
        for event in outputs
        if isinstance(event, Alert)
        and event.subject == "water.daily"
        and event.rule == "anomaly"
        and event.state == "open"
    ]


def test_morning_rise_raises_no_anomaly() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for day in range(5):
        outputs += _feed_day(processor, day)
    detector = processor.state.sensors[("farm-a", 1, "water.daily")].detector
    assert detector is not None
    assert not detector.warming_up
    assert _water_anomalies(outputs) == []


def test_meter_standstill_in_daylight_flags() -> None:
    processor = Processor()
    for day in range(4):
        _feed_day(processor, day)
    anomalies = _water_anomalies(_feed_day(processor, 4, stop_after_hour=10.0))
    assert len(anomalies) == 1
    assert anomalies[0].value is not None
    assert anomalies[0].event_time >= START + (4 * STEPS_PER_DAY + 120) * STEP
