"""Daily water meters through the processing core, judged by the light program (pure, no broker)."""

from __future__ import annotations

import random
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


def _light_share(step: int) -> float:
    """Return a 5-minute step's share of a lit day: more after lights-on and in the afternoon."""
    hour = step / 12
    if not 4.0 <= hour < 22.0:
        return 0.0
    if hour < 6.0:
        return 1.6
    return 1.2 if 14.0 <= hour < 19.0 else 1.0


def _feed_meter(
    processor: Processor,
    parameter: str,
    per_day: list[float],
    stopped: range = range(0),
) -> list[Alert]:
    """Feed whole-unit daily totals with +/-10 % noise per step and return the meter's anomaly openings.

    ``per_day`` is each day's consumption; the meter stops during the steps in ``stopped``.
    """
    generator = random.Random(7)
    shares = [_light_share(step) for step in range(STEPS_PER_DAY)]
    outputs: list[Output] = []
    for day, amount in enumerate(per_day):
        total = 0.0
        for step in range(STEPS_PER_DAY):
            index = day * STEPS_PER_DAY + step
            at = START + index * STEP
            if index not in stopped:
                total += amount * shares[step] / sum(shares) * generator.uniform(0.9, 1.1)
            clock = f"{step // 12:02d}:{step % 12 * 5:02d}"
            lit = 1.0 if shares[step] > 0.0 else 0.0
            outputs += processor.process(make_reading("device.lights.running", lit, at, unit="count"))
            outputs += processor.process(
                make_reading(parameter, round(total), at, unit="kg", controller_time=clock)
            )
    return [
        event
        for event in outputs
        if isinstance(event, Alert) and event.subject == parameter and event.rule == "anomaly"
    ]


def _growing(first: float, days: int) -> list[float]:
    return [first * 1.03**day for day in range(days)]


def test_coarse_feed_meter_stays_quiet() -> None:
    # 40 kg a day in whole kilograms: most 5-minute steps read no change.
    alerts = _feed_meter(Processor(), "feed.daily", _growing(40.0, 21))
    assert alerts == []


def test_coarse_feed_meter_standstill_flags() -> None:
    noon = 14 * STEPS_PER_DAY + 120
    alerts = _feed_meter(Processor(), "feed.daily", _growing(40.0, 15), stopped=range(noon, noon + 100))
    opened = [alert for alert in alerts if alert.state == "open"]
    assert len(opened) == 1
    assert START + noon * STEP < opened[0].event_time < START + (noon + 100) * STEP


def test_lasting_consumption_step_clears() -> None:
    per_day = [amount * (2.0 if day >= 6 else 1.0) for day, amount in enumerate(_growing(3000.0, 16))]
    alerts = _feed_meter(Processor(), "water.daily", per_day)
    assert [alert.state for alert in alerts if alert.state in ("open", "resolved")] == ["open", "resolved"]
    assert alerts[-1].event_time < START + 8 * STEPS_PER_DAY * STEP


def test_counter_alert_gives_rates() -> None:
    noon = 8 * STEPS_PER_DAY + 120
    alerts = _feed_meter(Processor(), "water.daily", _growing(3000.0, 9), stopped=range(noon, noon + 60))
    opened = [alert for alert in alerts if alert.state == "open"]
    assert len(opened) == 1
    assert opened[0].value == 0.0
    assert opened[0].expected is not None
    shares = [_light_share(step) for step in range(STEPS_PER_DAY)]
    usual = 3000.0 * 1.03**8 * sum(shares[120:132]) / sum(shares)  # litres from 10:00 to 11:00
    assert usual * 0.8 < opened[0].expected < usual * 1.25
    assert opened[0].evidence["reading"] > 1000.0
