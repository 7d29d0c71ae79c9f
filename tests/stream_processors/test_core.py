"""Unit tests of the processing core: rules, stale tracking, failure score, checkpoints (pure)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sp_events import START, STEP, make_reading, make_scrape_log, make_status

from schemas.events import Alert, FailurePrediction, Recommendation
from schemas.parameters import PARAMETERS
from stream_processors.checkpoint import Checkpoint, dump_checkpoint, load_checkpoint
from stream_processors.core import RULE_PARAMETERS, Output, Processor, ProcessorConfig, duration_limit
from stream_processors.evaluation import nab, replay
from stream_processors.exceptions import CheckpointMismatchError

NAB_DATA = Path("/work/shared/data/nab/machine_temperature_system_failure.csv")


def _alerts(outputs: list[Output], rule: str | None = None, state: str | None = None) -> list[Alert]:
    return [
        event
        for event in outputs
        if isinstance(event, Alert)
        and (rule is None or event.rule == rule)
        and (state is None or event.state == state)
    ]


def _at(step: int) -> datetime:
    return START + step * STEP


def test_co2_limits_warning_then_critical() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step, value in enumerate([2000, 3200, 3300, 3400, 5200, 5300]):
        outputs += processor.process(make_reading("co2", value, _at(step), unit="ppm"))
    alerts = _alerts(outputs, "co2_over_limit")
    assert [(alert.state, alert.severity) for alert in alerts] == [
        ("open", "warning"),
        ("reminder", "critical"),
    ]


def test_ammonia_over_limit_opens() -> None:
    processor = Processor()
    outputs: list[Output] = []
    # Ammonia must stay over its limit for an hour (12 readings) before the alert opens.
    for step in range(14):
        outputs += processor.process(make_reading("ammonia", 26.0, _at(step), unit="ppm"))
    alerts = _alerts(outputs, "ammonia_over_limit", "open")
    assert len(alerts) == 1
    assert alerts[0].severity == "critical"


def test_temperature_judged_by_flock_age() -> None:
    processor = Processor()
    outputs: list[Output] = []
    # Day 3 of the flock wants about 31.5 °C; 26 °C is far too cold even without a target.
    for step in range(4):
        outputs += processor.process(make_reading("temperature.average", 26.0, _at(step), growth_day=3))
    alerts = _alerts(outputs, "temperature_off_target", "open")
    assert len(alerts) == 1
    assert alerts[0].severity == "critical"
    assert alerts[0].expected == pytest.approx(31.5)


def _tunnel_house(inside: float, outside: float, steps: int = 6) -> list[Output]:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(steps):
        outputs += processor.process(make_reading("temperature.outside", outside, _at(step)))
        outputs += processor.process(make_reading("temperature.average", inside, _at(step), target=22.1))
    return outputs


def test_tunnel_house_near_outside_quiet() -> None:
    # Outside 24.6 °C: tunnel ventilation cannot hold 22.1 °C, so 25.6 °C is the controller coping.
    assert _alerts(_tunnel_house(25.6, 24.6), "temperature_off_target") == []


def test_cooled_house_below_outside_quiet() -> None:
    # Cool pads hold the house under the outside air: warm, but neither too hot nor too cold.
    assert _alerts(_tunnel_house(26.7, 28.6), "temperature_off_target") == []


def test_night_house_near_tunnel_set_point_quiet() -> None:
    # 3 °C over target on a cool night is still under the tunnel set point plus the warning band.
    assert _alerts(_tunnel_house(25.1, 19.9), "temperature_off_target") == []


def test_hot_house_far_above_outside() -> None:
    # Failing fans: the house climbs far above what the outside air allows.
    opened = _alerts(_tunnel_house(31.0, 24.6), "temperature_off_target", "open")
    assert len(opened) == 1
    assert opened[0].expected == pytest.approx(27.6)
    assert opened[0].evidence["outside"] == pytest.approx(24.6)


def test_cold_house_judged_against_target() -> None:
    # Too cold stays against the target, however cold the outside air is.
    opened = _alerts(_tunnel_house(18.0, 5.0), "temperature_off_target", "open")
    assert len(opened) == 1
    assert opened[0].expected == pytest.approx(22.1)


def test_drifting_probe_flags_against_average() -> None:
    processor = Processor()
    outputs: list[Output] = []
    rng = random.Random(5)
    for step in range(500):
        swing = 2.0 * math.sin(2 * math.pi * step / 288)
        average = 24.0 + swing + rng.gauss(0, 0.1)
        drift = 0.1 * max(0, step - 300) / 12
        outputs += processor.process(make_reading("temperature.average", average, _at(step)))
        probe = average + 0.3 + rng.gauss(0, 0.15) + drift
        outputs += processor.process(make_reading("temperature.sensor_3", probe, _at(step)))
    opened = _alerts(outputs, "anomaly", "open")
    assert [alert.subject for alert in opened] == ["temperature.sensor_3"]
    # Drifting 0.1 °C/h from step 300, the probe is caught within 10 hours, at about 1 °C.
    assert opened[0].event_time <= _at(300 + 10 * 12)


def test_probe_apart_from_peers_flags_own_shift() -> None:
    # A probe that does not follow the house (left out of the controller's average) steps down
    # 2.5 °C. Its residual against the average swings 4 °C a day and would hide the step.
    processor = Processor()
    outputs: list[Output] = []
    rng = random.Random(7)
    for step in range(500):
        average = 24.0 + 2.0 * math.sin(2 * math.pi * step / 288) + rng.gauss(0, 0.1)
        probe = 30.0 + rng.gauss(0, 0.15) - (2.5 if step >= 420 else 0.0)
        outputs += processor.process(make_reading("temperature.average", average, _at(step)))
        outputs += processor.process(make_reading("temperature.sensor_2", probe, _at(step)))
    opened = _alerts(outputs, "anomaly", "open")
    assert [alert.subject for alert in opened] == ["temperature.sensor_2"]
    assert _at(420) <= opened[0].event_time <= _at(420 + 6)
    # The expected value is the probe's own level, not a residual.
    assert opened[0].expected is not None
    assert abs(opened[0].expected - 30.0) < 0.5


def test_static_pressure_against_target() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(4):
        outputs += processor.process(make_reading("static_pressure", 45.0, _at(step), target=25.0, unit="Pa"))
    assert len(_alerts(outputs, "static_pressure_out_of_band", "open")) == 1


def test_water_at_night_flags_leak() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(8):
        at = _at(step)
        outputs += processor.process(make_reading("device.lights.running", 0, at, unit="count"))
        outputs += processor.process(make_reading("water.daily", 100.0 + 10.0 * step, at, unit="L"))
    assert len(_alerts(outputs, "water_at_night", "open")) == 1


def test_water_to_feed_ratio_high() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(10):
        at = _at(step)
        outputs += processor.process(make_reading("feed.daily", 1000.0 + step, at, unit="kg"))
        outputs += processor.process(make_reading("water.daily", 2800.0 + step, at, unit="L"))
    alerts = _alerts(outputs, "water_to_feed_ratio", "open")
    assert len(alerts) == 1
    assert alerts[0].severity == "critical"


def test_recommendation_when_co2_high_and_warm() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(20):
        at = _at(step)
        outputs += processor.process(make_reading("temperature.average", 30.0, at, target=29.0))
        outputs += processor.process(make_reading("co2", 2800.0, at, unit="ppm"))
    recommendations = [event for event in outputs if isinstance(event, Recommendation)]
    assert len(recommendations) == 1
    assert recommendations[0].action == "raise_minimum_ventilation"


def test_no_recommendation_when_cold() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(3):
        at = _at(step)
        outputs += processor.process(make_reading("temperature.average", 26.0, at, target=29.0))
        outputs += processor.process(make_reading("co2", 2800.0, at, unit="ppm"))
    assert not [event for event in outputs if isinstance(event, Recommendation)]


# Latest values under which every domain rule has something to judge: bad air in a warm house,
# and meters that ran overnight.
_BUSY_HOUSE = {
    "co2": 9000.0,
    "ammonia": 90.0,
    "humidity.inside": 99.0,
    "temperature.average": 40.0,
    "temperature.outside": 10.0,
    "water.daily": 9000.0,
    "feed.daily": 1000.0,
}


def _rule_effects(name: str, value: float) -> int:
    """Return how many outputs and alert machines one reading's domain rules leave in a busy house."""
    processor = Processor()
    at = _at(1)
    controller = processor._controller("farm-a", 1)
    controller.latest.update({other: (latest, at) for other, latest in _BUSY_HOUSE.items()})
    reading = make_reading(
        name, value, at, target=20.0, growth_day=10, unit=PARAMETERS[name].unit, controller_time="02:00"
    )
    outputs = processor._domain_rules(reading, controller, (0.0, _at(0)), at)
    return len(outputs) + len(processor.state.machines)


def test_domain_rules_judge_only_listed_parameters() -> None:
    # The processor skips the domain rules for a parameter outside RULE_PARAMETERS. That is safe
    # only while the rules leave nothing for such a parameter, even at extreme values.
    values = (-1e6, 0.0, 1e6)
    for name in PARAMETERS:
        judged = max(_rule_effects(name, value) for value in values)
        assert (judged > 0) == (name in RULE_PARAMETERS), name


@pytest.mark.parametrize(
    "seconds", [600.0, 2 * 300 / 7, 1 / 3, 0.3333333, 7200.0000004, 1e-7, 86_400.5, 1e9 + 1 / 3]
)
@pytest.mark.parametrize("exceeded", [True, False])
def test_duration_limit_matches_seconds(seconds: float, exceeded: bool) -> None:
    limit = duration_limit(seconds, exceeded=exceeded)
    near = math.floor(seconds * 10**6)
    for microseconds in range(near - 3, near + 4):
        duration = timedelta(microseconds=microseconds)
        expected = duration.total_seconds() > seconds if exceeded else duration.total_seconds() < seconds
        assert (duration > limit if exceeded else duration < limit) == expected, microseconds


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan, 1e15, -1e15])
@pytest.mark.parametrize("exceeded", [True, False])
def test_duration_limit_of_extreme_seconds(seconds: float, exceeded: bool) -> None:
    limit = duration_limit(seconds, exceeded=exceeded)
    for duration in (timedelta(0), timedelta(microseconds=1), timedelta(days=3_652_058), -timedelta(days=1)):
        expected = duration.total_seconds() > seconds if exceeded else duration.total_seconds() < seconds
        assert (duration > limit if exceeded else duration < limit) == expected, duration


def test_average_stale_by_submicrosecond() -> None:
    # Two intervals are 85.71428571428571 s: an average 85.714286 s old is too old for the advice.
    processor = Processor(ProcessorConfig(scrape_interval_seconds=300 / 7))
    processor.process(make_reading("temperature.average", 25.0, START, target=24.0))
    later = START + timedelta(microseconds=85_714_286)
    outputs = processor.process(make_reading("co2", 2600.0, later, unit="ppm"))

    assert not [event for event in outputs if isinstance(event, Recommendation)]


def test_recommendation_waits_past_fractional_interval() -> None:
    processor = Processor(ProcessorConfig(recommendation_interval_seconds=7200.0000004))
    recommendations = []
    for round_number in range(2):
        at = START + timedelta(seconds=7200 * round_number)
        processor.process(make_reading("temperature.average", 25.0, at, target=24.0))
        outputs = processor.process(make_reading("co2", 2600.0, at + timedelta(seconds=1), unit="ppm"))
        recommendations += [event for event in outputs if isinstance(event, Recommendation)]

    assert len(recommendations) == 1


def test_infinite_recommendation_interval_recommends_once() -> None:
    processor = Processor(ProcessorConfig(recommendation_interval_seconds=math.inf))
    recommendations = []
    for round_number in range(3):
        at = START + timedelta(days=round_number)
        processor.process(make_reading("temperature.average", 25.0, at, target=24.0))
        outputs = processor.process(make_reading("co2", 2600.0, at + timedelta(seconds=1), unit="ppm"))
        recommendations += [event for event in outputs if isinstance(event, Recommendation)]

    assert len(recommendations) == 1


def test_stale_controller_warning_then_critical() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(6):
        # House 1's controller clock stops after the first cycle; house 2's goes on.
        outputs += processor.process(make_status(_at(0), house=1, fetched=_at(step)))
        outputs += processor.process(make_status(_at(step), house=2, fetched=_at(step)))
    stale = _alerts(outputs, "controller_stale")
    assert [(alert.state, alert.severity, alert.house_number) for alert in stale] == [
        ("open", "warning", 1),
        ("reminder", "critical", 1),
    ]
    assert stale[0].event_time == _at(2)
    assert stale[1].event_time == _at(4)
    back = processor.process(make_status(_at(6), house=1, fetched=_at(6)))
    assert [alert.state for alert in _alerts(back, "controller_stale")] == ["resolved"]


def test_stale_counts_cycles_on_fast_clock() -> None:
    # A simulator on an accelerated clock: the scraper's own clock moves one second per cycle.
    processor = Processor()
    outputs: list[Output] = []
    for step in range(6):
        fetched = START + timedelta(days=30, seconds=step)
        outputs += processor.process(make_status(_at(0), house=1, fetched=fetched))
    stale = _alerts(outputs, "controller_stale")
    assert [(alert.state, alert.severity) for alert in stale] == [
        ("open", "warning"),
        ("reminder", "critical"),
    ]
    # Dated on the portal clock, one interval per cycle.
    assert stale[0].event_time == _at(2)
    assert stale[1].event_time == _at(4)


def test_repeated_fetch_is_ignored() -> None:
    processor = Processor()
    processor.process(make_status(_at(0), fetched=_at(0)))
    first = processor.process(make_status(_at(0), fetched=_at(3)))
    assert [alert.state for alert in _alerts(first, "controller_stale")] == ["open"]
    # The same status again (a redelivery) is ignored.
    assert processor.process(make_status(_at(0), fetched=_at(3))) == []


def test_offline_controller_alert() -> None:
    processor = Processor()
    outputs = processor.process(make_status(_at(0), connection="offline"))
    outputs += processor.process(make_status(_at(1), connection="connected"))
    assert [alert.state for alert in _alerts(outputs, "controller_offline")] == ["open", "resolved"]


def test_missing_house_opens_offline() -> None:
    processor = Processor()
    outputs = processor.process(make_status(_at(0), house=3))
    for step in range(1, 5):
        # The portal's house list lacks house 3 while the portal time moves on.
        outputs += processor.process(make_status(_at(step), house=3, connection="missing"))
    back = processor.process(make_status(_at(5), house=3))

    offline = _alerts(outputs, "controller_offline")
    assert [(alert.state, alert.severity) for alert in offline] == [("open", "critical")]
    assert offline[0].message == "house 3 is missing from the portal's house list"
    assert offline[0].event_time == _at(1)
    assert offline[0].evidence["connection_status"] == "missing"
    # A missing status is not fresh, so the house goes stale from its last listed cycle.
    stale = _alerts(outputs, "controller_stale")
    assert [(alert.state, alert.severity) for alert in stale] == [
        ("open", "warning"),
        ("reminder", "critical"),
    ]
    assert stale[0].event_time == _at(2)
    assert [alert.state for alert in _alerts(back, "controller_offline")] == ["resolved"]
    assert [alert.state for alert in _alerts(back, "controller_stale")] == ["resolved"]


def test_missing_house_keeps_alarm_open() -> None:
    processor = Processor()
    outputs = processor.process(make_status(_at(0), house=3, alarms=["12 Low Relay Current"]))
    for step in range(1, 5):
        outputs += processor.process(make_status(_at(step), house=3, connection="missing"))
    while_missing = [alert.state for alert in _alerts(outputs, "controller_alarm")]
    for step in range(5, 8):
        outputs += processor.process(make_status(_at(step), house=3))

    # The alarm clears 10 minutes after the listed house reports none, never while it is missing.
    assert while_missing == ["open"]
    resolved = _alerts(outputs, "controller_alarm", "resolved")
    assert [alert.event_time for alert in resolved] == [_at(7)]


def test_auth_failure_is_farm_level() -> None:
    processor = Processor()
    outputs = processor.process(make_scrape_log(_at(0), "auth_failed"))
    alerts = _alerts(outputs, "scraper_failed", "open")
    assert len(alerts) == 1
    assert alerts[0].house_number is None
    assert alerts[0].severity == "critical"


def test_never_installed_sensor_not_failed() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(4):
        outputs += processor.process(make_status(_at(step), sentinels=["General.CO2"]))
    assert _alerts(outputs, "sensor_failed") == []


def test_new_sentinel_is_sensor_failure() -> None:
    processor = Processor()
    processor.process(make_status(_at(0), sentinels=["General.CO2"]))
    outputs = processor.process(make_status(_at(1), sentinels=["General.CO2", "Temperature_Sensor_3"]))
    alerts = _alerts(outputs, "sensor_failed", "open")
    assert [alert.subject for alert in alerts] == ["Temperature_Sensor_3"]


def test_failure_prediction_on_error_rate() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(6):
        outputs += processor.process(
            make_status(_at(step), alarms=["12 Low Relay Current"] if step >= 3 else [])
        )
    predictions = [event for event in outputs if isinstance(event, FailurePrediction)]
    assert len(predictions) == 1
    assert predictions[0].evidence["controller_alarms"] == 2
    assert 0 < predictions[0].confidence <= 1
    assert predictions[0].predicted_at == _at(4)


def test_out_of_range_counts_toward_failure() -> None:
    processor = Processor()
    outputs: list[Output] = []
    for step in range(5):
        outputs += processor.process(
            make_reading("temperature.sensor_2", -40.0, _at(step), quality="out_of_range")
        )
        outputs += processor.process(make_status(_at(step)))
    assert len(_alerts(outputs, "sensor_out_of_range", "open")) == 1
    assert [event for event in outputs if isinstance(event, FailurePrediction)]


def test_redelivered_reading_ignored() -> None:
    processor = Processor()
    reading = make_reading("co2", 6000.0, _at(0), unit="ppm")
    assert processor.process(reading) == []
    second = make_reading("co2", 6000.0, _at(3), unit="ppm")
    opened = processor.process(second)
    assert len(_alerts(opened, "co2_over_limit", "open")) == 1
    assert processor.process(second) == []
    assert processor.process(reading) == []


def test_checkpoint_restore_repeats_nothing() -> None:
    processor = Processor()
    events = [
        make_reading("co2", 6000.0 if step >= 2 else 1000.0, _at(step), unit="ppm") for step in range(12)
    ]
    before = [output for event in events[:6] for output in processor.process(event)]
    data = dump_checkpoint(Checkpoint(partition=0, offset=5, state=processor.state))
    restored = Processor(state=load_checkpoint(data).state)
    replayed = [output for event in events for output in restored.process(event)]
    assert len(_alerts(before, "co2_over_limit", "open")) == 1
    assert _alerts(replayed, "co2_over_limit", "open") == []


def test_checkpoint_keeps_detector_warm() -> None:
    processor = Processor()
    for step in range(400):
        processor.process(make_reading("temperature.sensor_1", 25.0 + math.sin(step / 20), _at(step)))
    restored = Processor(state=load_checkpoint(dump_checkpoint(Checkpoint(0, 399, processor.state))).state)
    assert restored.warming_detectors() == 0


def test_checkpoint_other_river_rejected() -> None:
    checkpoint = Checkpoint(partition=0, offset=1, state=Processor().state, river_version="0.0.1")
    with pytest.raises(CheckpointMismatchError, match=r"River 0\.0\.1"):
        load_checkpoint(dump_checkpoint(checkpoint))


def _broiler_day(step: int, generator: random.Random) -> float:
    hour = (step * 5 / 60) % 24
    return 29.0 + 1.2 * math.sin(2 * math.pi * (hour - 9) / 24) + generator.gauss(0, 0.25)


def test_fault_free_house_stays_quiet() -> None:
    processor = Processor()
    generator = random.Random(21)
    outputs: list[Output] = []
    for step in range(14 * 288):
        at = _at(step)
        value = _broiler_day(step, generator) - 0.1 * (step / 288)
        outputs += processor.process(make_reading("temperature.sensor_1", value, at))
    assert _alerts(outputs, state="open") == []


def test_heater_failure_detected_quickly() -> None:
    processor = Processor()
    generator = random.Random(22)
    for step in range(3 * 288):
        processor.process(make_reading("temperature.sensor_1", _broiler_day(step, generator), _at(step)))
    outputs: list[Output] = []
    onset = 3 * 288
    for step in range(onset, onset + 36):
        sag = 0.15 * (step - onset)
        outputs += processor.process(
            make_reading("temperature.sensor_1", _broiler_day(step, generator) - sag, _at(step))
        )
    opened = _alerts(outputs, "anomaly", "open")
    assert len(opened) == 1
    # NOTE: the daily rhythm widens the spread, so a 1.8 °C/h sag takes up to two hours to flag.
    assert opened[0].event_time - _at(onset) <= timedelta(hours=2)


def test_nab_replay_beats_best_published() -> None:
    data = nab.read_series(NAB_DATA)
    windows = nab.read_windows(NAB_DATA.parent / "labels.json", NAB_DATA.name, data[0])
    alerts = replay.replay_series(*data)
    rows = nab.rows_for_times(replay.opening_times(alerts), data[0])
    result = nab.score_detections(len(data[0]), windows, rows)
    assert result.true_positives == 4
    assert result.score > 2.5563


def test_nab_replay_scale_invariant() -> None:
    timestamps, values = nab.read_series(NAB_DATA)
    windows = nab.read_windows(NAB_DATA.parent / "labels.json", NAB_DATA.name, timestamps)
    scores = []
    for low, high in [(15.0, 45.0), (150.0, 450.0)]:
        readings = replay.series_readings(timestamps, values, low=low, high=high)
        processor = Processor(ProcessorConfig())
        alerts = [e for r in readings for e in processor.process(r) if isinstance(e, Alert)]
        rows = nab.rows_for_times(replay.opening_times(alerts), timestamps)
        scores.append(nab.score_detections(len(timestamps), windows, rows).true_positives)
    assert scores[0] == scores[1]


def _controlled_house(
    days: float, seed: int, cool_night: bool = False, fault: str | None = None
) -> list[Output]:
    """Feed a house that a working controller holds between its heat set point and the outside air.

    Warm days keep it above its 25 °C target; a cool night lets it settle 0.9 °C below target, where
    the heaters start. The last afternoon or night may carry a failing fan or a failed heater.
    """
    processor = Processor()
    generator = random.Random(seed)
    outputs: list[Output] = []
    last_day = int(days * 288) - 288
    for step in range(int(days * 288)):
        hour = (step * 5 / 60) % 24
        base = 20.0 if cool_night and step >= last_day else 25.0
        outside = base + 6.0 * math.sin(2 * math.pi * (hour - 9) / 24) + generator.gauss(0, 0.2)
        inside = max(outside + 1.5, 25.0 - min(0.9, 0.3 * (25.0 - outside))) + generator.gauss(0, 0.1)
        if fault == "fan" and step >= last_day and 13 <= hour < 17:
            inside += 2.5  # fans lost capacity: the house climbs past the outside air plus the margin
        if fault == "heater" and step >= last_day and hour < 6:
            inside = min(inside, outside + 3.0)  # no heat: the house sinks towards the cool night air
        at = _at(step)
        outputs += processor.process(make_reading("temperature.outside", outside, at))
        outputs += processor.process(make_reading("temperature.average", inside, at, target=25.0))
    return outputs


def test_house_in_controlled_band_quiet() -> None:
    outputs = _controlled_house(4, seed=31, cool_night=True)
    assert _alerts(outputs, state="open") == []


def test_failing_fans_flag_anomaly() -> None:
    outputs = _controlled_house(4, seed=32, fault="fan")
    opened = _alerts(outputs, "anomaly", "open")
    assert [alert.subject for alert in opened] == ["temperature.average"]
    assert _alerts(outputs, "temperature_off_target") == []


def test_failed_heater_flags_anomaly() -> None:
    outputs = _controlled_house(4, seed=33, cool_night=True, fault="heater")
    opened = _alerts(outputs, "anomaly", "open")
    assert [alert.subject for alert in opened] == ["temperature.average"]
    assert opened[0].expected == pytest.approx(24.0, abs=0.3)
