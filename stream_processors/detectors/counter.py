"""Detector for meters that count up through the day and reset at midnight (water, feed)."""

from __future__ import annotations

import time

from stream_processors.detectors.base import Detector
from stream_processors.detectors.level import RobustLevelDetector

HOURS_PER_DAY = 24
# Candidate meter resolutions, coarsest first: the largest one that divides every value seen.
RESOLUTIONS = (100.0, 10.0, 1.0, 0.1, 0.01, 0.001)


def _divides(step: float, x: float) -> bool:
    units = x / step
    return abs(units - round(units)) < 1e-6


class CounterRateDetector(Detector):
    """Detector of the consumption rate (units per hour) of a daily counter, by hour of the day.

    A daily meter is not stationary (it only grows until midnight), so the detector works on the
    consumption over a recent span divided by its length. A value lower than the previous one is
    the midnight reset: the increment is then the value itself, counted from zero. A gap longer
    than ``max_gap_seconds`` restarts the span, because the increment cannot be placed in time.

    A meter counts in whole units (its resolution: the largest of 100, 10, 1, 0.1, 0.01 and 0.001
    that divides every value seen). The span is long enough to hold ``min_units`` units at the
    usual rate of the hour, from one interval up to ``max_span_seconds``. A 40 kg/day feed meter
    that reads no change in most 5-minute intervals is therefore judged over an hour, where a
    water meter that counts 10 L every 5 minutes is judged per interval.

    Birds eat and drink by the light program: most after the lights come on, more in the
    afternoon, little in the dark. So a rate is judged against the usual rate of the same local
    hour (an exponentially weighted mean per hour over the last days, the profile), as a ratio
    that goes through a :class:`RobustLevelDetector`: a jump in consumption (a leak) or a collapse
    (an outage, a clogged line) flags, the morning rise does not. The flock grows by a few percent
    a day at every hour alike, so the ratio's median absorbs the profile's lag, where a difference
    would lag most at the busiest hours. ``min_spread`` is therefore a fraction of the usual rate.
    An hour of the day scores only once the profile has seen ``season_points`` rates of it.

    The caller tells the light state and the controller's local hour with :meth:`observe` before
    each value. A value without a local hour takes the last known offset of the local clock from
    UTC (none, when never told). Dark hours are neither scored nor learned, and a span starts at
    the first lit reading, so it never straddles the lights-on switch. A meter that stays still over
    a whole span while the lights are on is never learned as normal, because a lit flock keeps
    drinking: an outage that starts during the warm-up cannot become the baseline. After more
    than ``adapt_after`` flagged spans in a row (a bigger flock, a new feeder line) the profile is
    scaled by the new ratio and the ratio's baseline restarts at 1. The former profile is kept for
    ``window`` learned spans, and a rate back at it restores it, so the end of a long fault (feed
    intake halved by a water outage) raises no second anomaly.
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
        min_units: float = 10.0,
        max_span_seconds: float = 3600.0,
    ) -> None:
        super().__init__(warm_up)
        if not 0.0 < profile_fading <= 1.0 or season_points < 1:
            raise ValueError(
                f"profile_fading must be in (0, 1] and season_points at least 1, "
                f"got {profile_fading}, {season_points}"
            )
        if min_units <= 0 or max_span_seconds <= 0:
            raise ValueError(
                f"min_units and max_span_seconds must be positive, got {min_units}, {max_span_seconds}"
            )
        self.max_gap_seconds = max_gap_seconds
        self.profile_fading = profile_fading
        self.season_points = season_points
        self.min_units = min_units
        self.max_span_seconds = max_span_seconds
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
        self.resolution = RESOLUTIONS[0]
        self.last_rate: float | None = None
        """The rate judged at the last update, in units per hour, or None if none was judged."""
        self._last_value: float | None = None
        self._last_at: float | None = None
        self._last_hour: int | None = None
        # Lit readings since the span's start, as (event time, consumption since the first one).
        self._span: list[tuple[float, float]] = []
        self._utc_offset_hours = 0
        self._run_ratio = 1.0
        # The profile left by the last adoption and the spans learned since it.
        self._former_profile: list[float] | None = None
        self._since_adopt = 0
        self.lit = True
        self.hour: int | None = None
        self._was_lit = True

    def observe(self, lit: bool, hour: int | None) -> None:
        """Set the light state and the controller's local hour (0 to 23) for the value that follows."""
        self.lit = lit
        self.hour = None if hour is None else hour % HOURS_PER_DAY

    def _hour(self, at: float) -> int:
        if self.hour is not None:
            return self.hour
        return (time.gmtime(at).tm_hour + self._utc_offset_hours) % HOURS_PER_DAY

    def _resolution(self, x: float) -> float:
        for step in RESOLUTIONS:
            if step <= self.resolution and _divides(step, x):
                return step
        return RESOLUTIONS[-1]

    def _span_seconds(self, hour: int, resolution: float) -> float:
        """Return the span in which the usual rate of the hour counts ``min_units`` units."""
        usual = self.profile[hour]
        if self.profile_points[hour] == 0 or usual <= 0.0:
            return self.max_span_seconds
        return min(self.min_units * resolution * 3600.0 / usual, self.max_span_seconds)

    def _increment(self, x: float, at: float) -> float | None:
        """Return the consumption since the previous lit reading, or None if the span restarts."""
        if self._last_value is None or self._last_at is None or not (self.lit and self._was_lit):
            return None
        elapsed = at - self._last_at
        if elapsed <= 0 or elapsed > self.max_gap_seconds:
            return None
        return x - self._last_value if x >= self._last_value else x

    def rate(self, x: float, at: float) -> float | None:
        """Return the consumption per hour over the span ending at this reading, or None if unknown."""
        increment = self._increment(x, at)
        if increment is None or not self._span:
            return None
        consumed = self._span[-1][1] + increment
        span = self._span_seconds(self._hour(at), self._resolution(x))
        # Readings come every few minutes, so a span reaching 90 % of the length is long enough.
        for start_at, start_consumed in reversed(self._span):
            if at - start_at >= 0.9 * span:
                return (consumed - start_consumed) * 3600.0 / (at - start_at)
        return None

    def _ratio(self, rate: float, hour: int) -> float | None:
        """Return the rate over the usual rate of its hour, or None while that hour is unseasoned."""
        if self.profile_points[hour] < self.season_points or self.profile[hour] <= 0.0:
            return None
        return rate / self.profile[hour]

    def _learn_profile(self, rate: float, hour: int) -> None:
        points = self.profile_points[hour] + 1
        fading = max(self.profile_fading, 1.0 / points)
        self.profile[hour] += fading * (rate - self.profile[hour])
        self.profile_points[hour] = points

    @property
    def warming_up(self) -> bool:
        return self.rates.warming_up

    def _former_ratio(self, rate: float, hour: int) -> float | None:
        """Return the rate over the former profile's usual rate if the rate is normal there, else None."""
        former = self._former_profile
        if former is None or former[hour] <= 0.0:
            return None
        ratio = rate / former[hour]
        median = self.rates.expected()
        if median is None or abs(ratio - median) >= self.rates.threshold * self.rates.spread():
            return None
        return ratio

    def score_one(self, x: float, at: float) -> float:
        hour = self._hour(at)
        rate = self.rate(x, at)
        ratio = None if rate is None else self._ratio(rate, hour)
        if rate is None or ratio is None:
            return 0.0
        score = self.rates.score_one(ratio, at)
        return 0.0 if score >= 1.0 and self._former_ratio(rate, hour) is not None else score

    def update(self, x: float, at: float, adapt_after: int = 0) -> float:
        """Score the span's rate, then learn it unless it was flagged, and return the score.

        The rate is computed once, before the reading moves the span. A reading that gives no
        ratio (dark, the span still filling, an unseasoned hour) neither breaks nor extends a
        flagged run, so the dark hours do not keep a lasting change from being adopted.
        """
        hour = self._hour(at)
        rate = self.rate(x, at)
        ratio = None if rate is None else self._ratio(rate, hour)
        score = 0.0 if ratio is None else self.rates.score_one(ratio, at)
        if rate is not None and score >= 1.0:
            former = self._former_ratio(rate, hour)
            if former is not None:
                # Back at the usage before the last adoption: that profile is the normal one again.
                self.profile, self._former_profile = self._former_profile or self.profile, None
                self.rates.adapt(former, at)
                ratio, score = former, 0.0
        if rate is None or ratio is None:
            if rate is not None and rate > 0.0:
                self._learn_profile(rate, hour)
        elif score < 1.0:
            self.flagged_run = 0
            self._learn(rate, ratio, hour, at)
        else:
            self.flagged_run += 1
            self._run_ratio = ratio if self.flagged_run == 1 else 0.9 * self._run_ratio + 0.1 * ratio
            self.rates.advance(ratio, at)
            if adapt_after > 0 and self.flagged_run > adapt_after:
                self.flagged_run = 0
                self._adopt(self._run_ratio, at)
        self.last_rate = rate
        self._move(x, at)
        return score

    def _learn(self, rate: float, ratio: float, hour: int, at: float) -> None:
        if rate > 0.0:
            self.rates.learn_one(ratio, at)
            self.learned = self.rates.learned
            self._learn_profile(rate, hour)
            self._since_adopt += 1
            if self._since_adopt >= self.rates.window:
                self._former_profile = None
        else:
            self.rates.advance(ratio, at)

    def _adopt(self, ratio: float, at: float) -> None:
        """Take a lasting change of consumption as the new normal: every hour scales alike."""
        if ratio <= 0.0:
            return  # a stopped meter is never normal
        self._former_profile = list(self.profile)
        self._since_adopt = 0
        self.profile = [usual * ratio for usual in self.profile]
        self.rates.adapt(1.0, at)

    def learn_one(self, x: float, at: float) -> None:
        hour = self._hour(at)
        rate = self.rate(x, at)
        ratio = None if rate is None else self._ratio(rate, hour)
        if rate is not None and ratio is not None:
            self._learn(rate, ratio, hour, at)
        elif rate is not None and rate > 0.0:
            self._learn_profile(rate, hour)
        self.last_rate = rate
        self._move(x, at)

    def advance(self, x: float, at: float) -> None:
        rate = self.rate(x, at)
        ratio = None if rate is None else self._ratio(rate, self._hour(at))
        if ratio is not None:
            self.rates.advance(ratio, at)
        self.last_rate = rate
        self._move(x, at)

    def adapt(self, x: float, at: float) -> None:
        """Adopt the ratio of the span ending at this reading as the new normal."""
        rate = self.rate(x, at)
        ratio = None if rate is None else self._ratio(rate, self._hour(at))
        if ratio is not None:
            self._adopt(ratio, at)
        self._move(x, at)

    def _move(self, x: float, at: float) -> None:
        increment = self._increment(x, at)
        if not self.lit:
            self._span = []
        elif increment is None or not self._span:
            self._span = [(at, 0.0)]
        else:
            self._span.append((at, self._span[-1][1] + increment))
            # The oldest reading is dropped once the next one already starts a longest span.
            while len(self._span) > 2 and at - self._span[1][0] >= self.max_span_seconds:
                del self._span[0]
        self.resolution = self._resolution(x)
        hour = self._hour(at)
        if self.hour is not None:
            self._utc_offset_hours = (self.hour - time.gmtime(at).tm_hour) % HOURS_PER_DAY
        self._last_hour = hour
        self._last_value = x
        self._last_at = at
        self._was_lit = self.lit

    def expected(self) -> float | None:
        """Return the usual rate per hour of the last observed hour, or None while it is unseasoned."""
        hour = self._last_hour
        if hour is None or self.profile_points[hour] < self.season_points:
            return None
        ratio = self.rates.expected()
        return self.profile[hour] * (1.0 if ratio is None else ratio)
