"""Contract suite run against every detector, plus per-detector behaviour (pure, no broker)."""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Callable

import pytest

from stream_processors.detectors import (
    CounterRateDetector,
    Detector,
    DeviceStateDetector,
    RobustLevelDetector,
    detector_for,
)

STEP = 300.0


def _level_series(count: int, seed: int) -> list[float]:
    generator = random.Random(seed)
    return [25.0 + 1.5 * math.sin(2 * math.pi * i / 288) + generator.gauss(0, 0.3) for i in range(count)]


def _counter_series(count: int, seed: int) -> list[float]:
    generator = random.Random(seed)
    values, total = [], 0.0
    for i in range(count):
        if i % 288 == 0:
            total = 0.0
        total += 20.0 + generator.gauss(0, 2.0)
        values.append(total)
    return values


def _device_series(count: int, seed: int) -> list[float]:
    generator = random.Random(seed)
    values, state = [], 0.0
    for _ in range(count):
        if generator.random() < 0.1:
            state = 2.0 - state
        values.append(state)
    return values


FACTORIES: dict[str, tuple[Callable[[], Detector], Callable[[int, int], list[float]], float]] = {
    "level": (lambda: RobustLevelDetector(warm_up=100, window=200, min_spread=0.2), _level_series, 40.0),
    "counter": (lambda: CounterRateDetector(warm_up=100, window=200, season_points=1), _counter_series, 0.0),
    "device": (lambda: DeviceStateDetector(warm_up=100), _device_series, 7.0),
}


@pytest.fixture(params=sorted(FACTORIES))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _feed(detector: Detector, values: list[float], start: int = 0) -> list[float]:
    return [detector.update(value, (start + i) * STEP) for i, value in enumerate(values)]


def test_pickle_round_trip_keeps_scores(kind: str) -> None:
    factory, series, _ = FACTORIES[kind]
    values = series(400, 1)
    detector = factory()
    _feed(detector, values[:300])
    restored = pickle.loads(pickle.dumps(detector))  # noqa: S301 - own data
    assert _feed(restored, values[300:], 300) == _feed(detector, values[300:], 300)


def test_score_one_changes_nothing(kind: str) -> None:
    factory, series, _ = FACTORIES[kind]
    values = series(300, 2)
    detector = factory()
    _feed(detector, values)
    before = pickle.dumps(detector)
    first = detector.score_one(values[-1] + 1.0, 300 * STEP)
    second = detector.score_one(values[-1] + 1.0, 300 * STEP)
    assert first == second
    assert pickle.dumps(detector) == before


def test_same_inputs_same_scores(kind: str) -> None:
    factory, series, _ = FACTORIES[kind]
    values = series(400, 3)
    assert _feed(factory(), values) == _feed(factory(), values)


def test_warm_up_scores_zero(kind: str) -> None:
    factory, _, anomaly = FACTORIES[kind]
    detector = factory()
    scores = [detector.update(anomaly if i % 7 == 0 else 1.0, i * STEP) for i in range(50)]
    assert detector.warming_up
    assert scores == [0.0] * 50


def test_flagged_points_not_learned(kind: str) -> None:
    factory, series, anomaly = FACTORIES[kind]
    values = series(400, 4)
    detector = factory()
    _feed(detector, values[:300])
    learned = detector.learned
    # A counter flags on its rate, so its anomaly is a huge increment at every step.
    odd = [values[299] + 5000.0 * (i + 1) if kind == "counter" else anomaly for i in range(30)]
    scores = _feed(detector, odd, 300)
    flagged = sum(1 for score in scores if score >= 1.0)
    assert flagged > 0
    assert detector.learned - learned == len(odd) - flagged


def test_detector_for_every_signal() -> None:
    assert isinstance(detector_for("temperature", "temperature.average"), RobustLevelDetector)
    assert isinstance(detector_for("counter", "water.daily"), CounterRateDetector)
    assert isinstance(detector_for("device_state", "device.feeding.running"), DeviceStateDetector)
    assert detector_for("position", "inlet.position_1") is None


def test_weather_has_no_detector() -> None:
    assert detector_for("temperature", "temperature.outside") is None
    assert detector_for("temperature", "temperature.wind_chill") is None
    assert detector_for("device_state", "device.tunnel_fans.running") is None
    assert detector_for("device_state", "device.heaters.running") is None


def test_level_shift_flagged() -> None:
    detector = RobustLevelDetector(warm_up=288, min_spread=0.2)
    values = _level_series(1000, 5)
    scores = _feed(detector, values)
    assert max(scores[288:]) < 1.0
    shifted = [value - 6.0 for value in _level_series(24, 6)]
    assert max(_feed(detector, shifted, 1000)) >= 1.0


def test_single_spike_not_flagged() -> None:
    detector = RobustLevelDetector(warm_up=288, min_spread=0.2)
    _feed(detector, _level_series(1000, 7))
    assert detector.update(35.0, 1000 * STEP) < 1.0


def test_slow_drift_flagged_eventually() -> None:
    detector = RobustLevelDetector(warm_up=288, min_spread=0.2)
    _feed(detector, _level_series(1000, 8))
    drifting = [value + 0.05 * i for i, value in enumerate(_level_series(600, 9))]
    assert max(_feed(detector, drifting, 1000)) >= 1.0


def test_gap_restarts_short_level() -> None:
    detector = RobustLevelDetector(warm_up=50, window=100, min_spread=0.2, short_fading=0.1)
    _feed(detector, [20.0] * 100)
    after_gap = detector.score_one(20.0, 100 * STEP + 10 * 3600)
    assert after_gap == 0.0
    detector.update(30.0, 100 * STEP)
    assert detector.score_one(20.0, 101 * STEP + 10 * 3600) == 0.0


def test_persistent_shift_adopted() -> None:
    detector = RobustLevelDetector(warm_up=50, window=100, min_spread=0.2)
    _feed(detector, [20.0] * 100)
    scores = [detector.update(30.0, (100 + i) * STEP, adapt_after=20) for i in range(40)]
    assert scores[5] >= 1.0
    assert scores[-1] < 1.0


def test_return_after_shift_restores_baseline() -> None:
    # A repaired fan brings the pressure back to where it was before the detector adapted.
    detector = RobustLevelDetector(warm_up=50, window=100, min_spread=0.2)
    _feed(detector, [20.0] * 100)
    for i in range(40):
        detector.update(30.0, (100 + i) * STEP, adapt_after=20)
    back = [detector.update(20.0, (140 + i) * STEP, adapt_after=20) for i in range(30)]
    assert max(back) < 1.0
    assert detector.expected() == pytest.approx(20.0)
    assert detector.update(30.0, 170 * STEP) >= 1.0


def test_former_baseline_forgotten_after_window() -> None:
    detector = RobustLevelDetector(warm_up=50, window=100, min_spread=0.2)
    _feed(detector, [20.0] * 100)
    for i in range(140):
        detector.update(30.0, (100 + i) * STEP, adapt_after=20)
    assert detector.update(20.0, 240 * STEP) >= 1.0


def test_set_points_have_no_detector() -> None:
    assert detector_for("temperature", "temperature.target") is None
    assert detector_for("pressure", "static_pressure.target") is None
    assert isinstance(detector_for("pressure", "static_pressure"), RobustLevelDetector)


def test_counter_reset_is_not_anomalous() -> None:
    detector = CounterRateDetector(warm_up=100, window=300)
    scores = _feed(detector, _counter_series(900, 10))
    assert max(scores[100:]) < 1.0


def test_counter_leak_flagged() -> None:
    detector = CounterRateDetector(warm_up=100, window=300)
    values = _counter_series(500, 11)
    _feed(detector, values)
    leak = [values[-1] + 120.0 * (i + 1) for i in range(6)]
    assert max(_feed(detector, leak, 500)) >= 1.0


def test_device_stuck_flagged() -> None:
    detector = DeviceStateDetector(warm_up=100, min_run_seconds=600)
    _feed(detector, _device_series(600, 12))
    stuck = [2.0] * 200
    assert max(_feed(detector, stuck, 600)) >= 1.0


def _lit_day_series(days: int, seed: int, standstill: range = range(0)) -> list[tuple[float, bool]]:
    """Return daily-counter values with lights off from 22:00 to 04:00 and a morning drinking peak.

    Steps in ``standstill`` leave the meter still, as a water outage does.
    """
    generator = random.Random(seed)
    values: list[tuple[float, bool]] = []
    total = 0.0
    for i in range(days * 288):
        hour = (i % 288) / 12
        if i % 288 == 0:
            total = 0.0
        lit = 4.0 <= hour < 22.0
        rate = 9.0
        if not lit:
            rate = 0.3
        elif hour < 6.0:
            rate = 16.0
        if i not in standstill:
            total += rate * generator.uniform(0.95, 1.05)
        values.append((total, lit))
    return values


def _feed_lit(detector: CounterRateDetector, values: list[tuple[float, bool]], start: int = 0) -> list[float]:
    scores = []
    for i, (value, lit) in enumerate(values):
        detector.observe(lit, (start + i) % 288 // 12)
        scores.append(detector.update(value, (start + i) * STEP))
    return scores


def test_counter_lights_on_peak_is_normal() -> None:
    detector = CounterRateDetector(warm_up=200, window=400, threshold=4.0)
    scores = _feed_lit(detector, _lit_day_series(4, 21))
    assert not detector.warming_up
    assert max(scores) < 1.0


def test_counter_dark_hours_not_learned() -> None:
    detector = CounterRateDetector(warm_up=200, window=400)
    _feed_lit(detector, _lit_day_series(2, 22))
    assert [detector.profile_points[hour] for hour in (22, 23, 0, 3)] == [0, 0, 0, 0]
    assert detector.profile[4] > 1.5 * detector.profile[12]


def test_counter_outage_in_warm_up_not_learned() -> None:
    detector = CounterRateDetector(warm_up=200, window=400, threshold=4.0)
    values = _lit_day_series(4, 23, standstill=range(90, 330))
    scores = _feed_lit(detector, values)
    assert not detector.warming_up
    assert max(scores) < 1.0
    # A standstill at noon of the next day flags: the meter stops while the lights are on.
    noon = len(values) + 12 * 12
    morning = _lit_day_series(1, 24)[: 12 * 12]
    assert max(_feed_lit(detector, morning, len(values))) < 1.0
    frozen = morning[-1][0]
    assert max(_feed_lit(detector, [(frozen, True)] * 6, noon)) >= 1.0


def test_counter_adopts_lasting_doubling() -> None:
    detector = CounterRateDetector(warm_up=200, window=400)
    values = _lit_day_series(7, 25)
    scores = []
    for i, (value, lit) in enumerate(values):
        detector.observe(lit, i % 288 // 12)
        scores.append(detector.update(value * (2.0 if i >= 4 * 288 else 1.0), i * STEP, adapt_after=144))
    assert max(scores[4 * 288 : 5 * 288]) >= 1.0
    assert max(scores[6 * 288 :]) < 1.0
    assert detector.profile[12] > 1.8 * 9.0 * 12


def test_counter_missing_hour_keeps_offset() -> None:
    # The controller runs 5 hours ahead of UTC and every third reading lacks its local time.
    detector = CounterRateDetector(warm_up=200, window=400)
    for i, (value, lit) in enumerate(_lit_day_series(2, 26)):
        detector.observe(lit, None if i % 3 == 0 else i % 288 // 12)
        detector.update(value, (288 + i) * STEP - 5 * 3600.0)
    assert [detector.profile_points[hour] for hour in (22, 23, 0, 1, 3)] == [0, 0, 0, 0, 0]
    assert detector.profile[4] > 1.5 * detector.profile[12]


def test_coarse_counter_judged_over_hour() -> None:
    # About 3.6 units an hour at noon: a 5-minute step reads 0 or 1 unit, so 0 or 12 units an hour.
    detector = CounterRateDetector(warm_up=200, window=400)
    values = [(float(round(total / 30.0)), lit) for total, lit in _lit_day_series(5, 27)]
    scores = _feed_lit(detector, values[: 4 * 288 + 144])
    assert detector.resolution == 1.0
    assert not detector.warming_up
    assert max(scores) < 1.0
    assert detector.last_rate is not None
    assert 2.5 < detector.last_rate < 5.0


def test_counter_return_restores_profile() -> None:
    # Intake halves for a day (a water outage), is adopted after 144 flagged spans, then comes back.
    detector = CounterRateDetector(warm_up=200, window=400)
    values = _lit_day_series(7, 28)
    scores = []
    for i, (value, lit) in enumerate(values):
        detector.observe(lit, i % 288 // 12)
        factor = 0.5 if 4 * 288 <= i < 5 * 288 else 1.0
        scores.append(detector.update(value * factor, i * STEP, adapt_after=144))
    assert max(scores[4 * 288 : 5 * 288]) >= 1.0
    assert max(scores[5 * 288 :]) < 1.0
