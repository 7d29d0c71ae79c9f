"""Unit test (no Kafka): RobustLevelDetector's one-pass update gives the generic path's results."""

from __future__ import annotations

import random

import pytest

from stream_processors.detectors import Detector, RobustLevelDetector


def _signal(seed: int, steps: int) -> list[tuple[float, float]]:
    """Values with noise, spikes, level shifts, a return to the old level and gaps in time."""
    generator = random.Random(seed)
    level, at, points = 20.0, 0.0, []
    for step in range(steps):
        if step in (300, 700):
            level += generator.choice((-6.0, 6.0))
        if step == 1000:
            level = 20.0
        at += 300.0 if generator.random() > 0.02 else 3600.0
        value = level + generator.gauss(0.0, 0.3)
        if generator.random() < 0.01:
            value += 10.0
        points.append((value, at))
    return points


def _state(detector: RobustLevelDetector) -> tuple[object, ...]:
    former = detector._former.get() if detector._former is not None else None
    return (
        detector.learned,
        detector.flagged_run,
        detector._short,
        detector._last_at,
        detector._median.get(),
        detector._spread.get(),
        former,
        detector._since_adapt,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fused_update_matches_generic_path(seed: int) -> None:
    fused = RobustLevelDetector(warm_up=100, window=200, min_spread=0.1)
    generic = RobustLevelDetector(warm_up=100, window=200, min_spread=0.1)
    flagged = adapted = 0
    for value, at in _signal(seed, 1400):
        score = fused.update(value, at, adapt_after=30)
        expected = Detector.update(generic, value, at, adapt_after=30)
        assert score == expected
        assert _state(fused) == _state(generic)
        flagged += score >= 1.0
        adapted += fused._former is not None and fused._since_adapt == 0
    # The signal must reach every branch: flagged points, an adaptation and a former baseline.
    assert flagged > 30
    assert adapted >= 1
