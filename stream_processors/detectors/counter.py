"""Detector for meters that count up through the day and reset at midnight (water, feed)."""

from __future__ import annotations

import time

from stream_processors.detectors.base import Detector
from stream_processors.detectors.level import RobustLevelDetector

HOURS_PER_DAY = 24


class CounterRateDetector(Detector):
    """Detector of the consumption rate (units per hour) of a daily counter, by hour of the day.

    A daily meter is not stationary (it only grows until midnight), so the detector works on the
    increment between consecutive readings divided by the elapsed hours. A value lower than the
    previous one is the midnight reset: the increment is then the value itself, counted from zero.
    A gap longer than ``max_gap_seconds`` gives no rate for that step, because the increment
    cannot be placed in time.

    Birds eat and drink by the light program: most after the lights come on, more in the
    afternoon, little in the dark. So a rate is judged against the usual rate of the same local
    hour (an exponentially weighted mean per hour over the last days, the profile), as a ratio
    that goes through a :class:`RobustLevelDetector`: a jump in consumption (a leak) or a collapse
    (an outage, a clogged line) flags, the morning rise does not. The flock grows by a few percent
    a day at every hour alike, so the ratio's median absorbs the profile's lag, where a difference
    would lag most at the busiest hours. ``min_spread`` is therefore a fraction of the usual rate.
    An hour of the day scores only once the profile has seen ``season_points`` rates of it.

    The caller tells the light state and the controller's local hour with :meth:`observe` before
    each value (lit, and the hour of the event time in UTC, when never told). Dark hours are
    neither scored nor learned, and neither is the first interval after the lights come on, which
    straddles the switch. A meter standing still while the lights are on is never learned as
    normal, because a lit flock keeps drinking: an outage that starts during the warm-up cannot
    become the baseline.
    """

    def __init__(
        self,
        warm_up: int = 288,
        window: int = 576,
        threshold: float = 6.0,
        min_spread: float = 0.05,
        max_gap_seconds: float = 1800.0,
        profile_fading: float = 1.0 / 12.0,
        season_points: int = 12,
    ) -> None:
        super().__init__(warm_up)
        if not 0.0 < profile_fading <= 1.0 or season_points < 1:
            raise ValueError(
                f"profile_fading must be in (0, 1] and season_points at least 1, "
                f"got {profile_fading}, {season_points}"
            )
        self.max_gap_seconds = max_gap_seconds
        self.profile_fading = profile_fading
        self.season_points = season_points
        self.rates = RobustLevelDetector(
            warm_up=warm_up,
            window=window,
            threshold=threshold,
            min_spread=min_spread,
            short_fading=0.3,
            max_gap_seconds=max_gap_seconds,
        )
        self.profile = [0.0] * HOURS_PER_DAY
        self.profile_points = [0] * HOURS_PER_DAY
        self._last_value: float | None = None
        self._last_at: float | None = None
        self.lit = True
        self.hour: int | None = None
        self._was_lit = True

    def observe(self, lit: bool, hour: int | None) -> None:
        """Set the light state and the controller's local hour (0 to 23) for the value that follows."""
        self.lit = lit
        self.hour = None if hour is None else hour % HOURS_PER_DAY

    def rate(self, x: float, at: float) -> float | None:
        """Return the consumption per hour since the previous reading, or None if unknown."""
        if self._last_value is None or self._last_at is None:
            return None
        elapsed = at - self._last_at
        if elapsed <= 0 or elapsed > self.max_gap_seconds:
            return None
        increment = x - self._last_value if x >= self._last_value else x
        return increment * 3600.0 / elapsed

    def _hour(self, at: float) -> int:
        return self.hour if self.hour is not None else time.gmtime(at).tm_hour

    def _judged_rate(self, x: float, at: float) -> float | None:
        """Return the rate of a lit interval, lights-on switch excluded, or None."""
        if not (self.lit and self._was_lit):
            return None
        return self.rate(x, at)

    def _ratio(self, rate: float, at: float) -> float | None:
        """Return the rate over the usual rate of its hour, or None while that hour is unseasoned."""
        hour = self._hour(at)
        if self.profile_points[hour] < self.season_points or self.profile[hour] <= 0.0:
            return None
        return rate / self.profile[hour]

    def _learn_profile(self, rate: float, at: float) -> None:
        hour = self._hour(at)
        points = self.profile_points[hour] + 1
        fading = max(self.profile_fading, 1.0 / points)
        self.profile[hour] += fading * (rate - self.profile[hour])
        self.profile_points[hour] = points

    @property
    def warming_up(self) -> bool:
        return self.rates.warming_up

    def score_one(self, x: float, at: float) -> float:
        rate = self._judged_rate(x, at)
        ratio = None if rate is None else self._ratio(rate, at)
        if ratio is None:
            return 0.0
        return self.rates.score_one(ratio, at)

    def learn_one(self, x: float, at: float) -> None:
        rate = self._judged_rate(x, at)
        if rate is not None and rate > 0.0:
            ratio = self._ratio(rate, at)
            if ratio is not None:
                self.rates.learn_one(ratio, at)
                self.learned = self.rates.learned
            self._learn_profile(rate, at)
        elif rate is not None:
            self._advance_rates(rate, at)
        self._move(x, at)

    def advance(self, x: float, at: float) -> None:
        rate = self._judged_rate(x, at)
        if rate is not None:
            self._advance_rates(rate, at)
        self._move(x, at)

    def adapt(self, x: float, at: float) -> None:
        rate = self._judged_rate(x, at)
        ratio = None if rate is None else self._ratio(rate, at)
        if rate is not None and ratio is not None:
            self.rates.adapt(ratio, at)
        self._move(x, at)

    def _advance_rates(self, rate: float, at: float) -> None:
        ratio = self._ratio(rate, at)
        if ratio is not None:
            self.rates.advance(ratio, at)

    def _move(self, x: float, at: float) -> None:
        self._last_value = x
        self._last_at = at
        self._was_lit = self.lit

    def expected(self) -> float | None:
        """Return the usual rate per hour of the last observed hour, or None while it is unseasoned."""
        if self._last_at is None:
            return None
        hour = self._hour(self._last_at)
        if self.profile_points[hour] < self.season_points:
            return None
        ratio = self.rates.expected()
        return self.profile[hour] * (1.0 if ratio is None else ratio)
