"""Detector for meters that count up through the day and reset at midnight (water, feed)."""

from __future__ import annotations

from stream_processors.detectors.base import Detector
from stream_processors.detectors.level import RobustLevelDetector


class CounterRateDetector(Detector):
    """Scores the consumption rate (units per hour) derived from a daily counter.

    A daily meter is not stationary (it only grows until midnight), so the detector works on the
    increment between consecutive readings divided by the elapsed hours. A value lower than the
    previous one is the midnight reset: the increment is then the value itself, counted from zero.
    The rate goes through a :class:`RobustLevelDetector`, so a jump in consumption (a leak) or a
    collapse (an outage, a clogged line) flags. A gap longer than ``max_gap_seconds`` gives no rate
    for that step, because the increment cannot be placed in time.
    """

    def __init__(
        self,
        warm_up: int = 288,
        window: int = 576,
        threshold: float = 6.0,
        min_spread: float = 1.0,
        max_gap_seconds: float = 1800.0,
    ) -> None:
        super().__init__(warm_up)
        self.max_gap_seconds = max_gap_seconds
        self.rates = RobustLevelDetector(
            warm_up=warm_up,
            window=window,
            threshold=threshold,
            min_spread=min_spread,
            short_fading=0.3,
            max_gap_seconds=max_gap_seconds,
        )
        self._last_value: float | None = None
        self._last_at: float | None = None

    def rate(self, x: float, at: float) -> float | None:
        """Return the consumption per hour since the previous reading, or None if unknown."""
        if self._last_value is None or self._last_at is None:
            return None
        elapsed = at - self._last_at
        if elapsed <= 0 or elapsed > self.max_gap_seconds:
            return None
        increment = x - self._last_value if x >= self._last_value else x
        return increment * 3600.0 / elapsed

    @property
    def warming_up(self) -> bool:
        return self.rates.warming_up

    def score_one(self, x: float, at: float) -> float:
        rate = self.rate(x, at)
        if rate is None:
            return 0.0
        return self.rates.score_one(rate, at)

    def learn_one(self, x: float, at: float) -> None:
        rate = self.rate(x, at)
        if rate is not None:
            self.rates.learn_one(rate, at)
            self.learned = self.rates.learned
        self._last_value = x
        self._last_at = at

    def advance(self, x: float, at: float) -> None:
        rate = self.rate(x, at)
        if rate is not None:
            self.rates.advance(rate, at)
        self._last_value = x
        self._last_at = at

    def adapt(self, x: float, at: float) -> None:
        rate = self.rate(x, at)
        if rate is not None:
            self.rates.adapt(rate, at)
        self._last_value = x
        self._last_at = at

    def expected(self) -> float | None:
        """Return the baseline median rate per hour."""
        return self.rates.expected()
