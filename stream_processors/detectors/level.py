"""Robust level-shift detector for continuous signals: temperature, humidity, static pressure, gases."""

from __future__ import annotations

from river import stats

from stream_processors.detectors.base import Detector


class RobustLevelDetector(Detector):
    """Flags a short-term level that leaves the robust range of the recent baseline.

    The baseline is the rolling median of the last ``window`` learned values (River's
    ``RollingQuantile``, exact within the window) and the exponentially weighted mean absolute
    deviation from it (River's ``EWMean``). The short-term level is an exponentially weighted mean
    of the last few values, so one noisy reading does not flag but a sustained shift does. The
    score is the deviation of the short-term level from the median in units of ``threshold`` times
    the spread, so it does not depend on the signal's unit or scale.

    It suits signals that hover around a level with a daily rhythm (house temperature, the
    residual of temperature against its target, humidity, static pressure). It cannot tell a slow
    drift that stays inside the spread from normal; the domain rules cover that case. Flagged
    values stay out of the baseline; a gap longer than ``max_gap_seconds`` restarts the short-term
    level from the next value but keeps the baseline. After adapting to a persistent shift it keeps
    the baseline it left for one window, so a return to that level (a repaired fan, a recalibrated
    probe) restores it instead of raising a second anomaly.

    >>> detector = RobustLevelDetector(warm_up=20, window=50, min_spread=0.1, short_fading=0.5)
    >>> for step in range(40):
    ...     _ = detector.update(20.0 + 0.5 * (step % 3), at=300.0 * step)
    >>> [round(detector.update(35.0, at=300.0 * (40 + i)), 1) >= 1.0 for i in range(3)]
    [True, True, True]
    """

    def __init__(
        self,
        warm_up: int = 288,
        window: int = 576,
        threshold: float = 4.0,
        min_spread: float = 0.1,
        short_fading: float = 0.1,
        spread_fading: float = 0.001,
        max_gap_seconds: float = 1800.0,
        clip: float = 2.0,
    ) -> None:
        super().__init__(warm_up)
        if window < warm_up:
            raise ValueError(f"window {window} must be at least warm_up {warm_up}")
        if threshold <= 0 or min_spread <= 0:
            raise ValueError(f"threshold and min_spread must be positive, got {threshold}, {min_spread}")
        self.window = window
        self.threshold = threshold
        self.min_spread = min_spread
        self.short_fading = short_fading
        self.max_gap_seconds = max_gap_seconds
        self.clip = clip
        self._median = stats.RollingQuantile(0.5, window_size=window)
        self._spread = stats.EWMean(fading_factor=spread_fading)
        self._short: float | None = None
        self._last_at: float | None = None
        # The baseline left by the last adaptation and the points learned since it.
        self._former: stats.RollingQuantile | None = None
        self._since_adapt = 0

    def _short_level(self, x: float, at: float) -> float:
        if self._short is None or self._gap(at):
            return x
        return self.short_fading * x + (1.0 - self.short_fading) * self._short

    def _gap(self, at: float) -> bool:
        return self._last_at is not None and at - self._last_at > self.max_gap_seconds

    def spread(self) -> float:
        """Return the baseline spread used as the unit of deviation."""
        learned_spread = self._spread.get() if self.learned > 1 else 0.0
        return max(learned_spread * 1.2533, self.min_spread)

    def expected(self) -> float | None:
        """Return the baseline median, or None before anything was learned."""
        value: float | None = self._median.get() if self.learned else None
        return value

    def score_one(self, x: float, at: float) -> float:
        if self.warming_up:
            return 0.0
        score = self._distance(self._short_level(x, at), self._median)
        if score is None:
            return 0.0
        # A value back at the former baseline is normal at once: the short-term level still lags.
        former = self._distance(x, self._former)
        return score if former is None else min(score, former)

    def _distance(self, level: float, baseline: stats.RollingQuantile | None) -> float | None:
        """Return how far a level is from a baseline's median, in units of the threshold."""
        median = baseline.get() if baseline is not None else None
        if median is None:
            return None
        return float(abs(level - median) / (self.threshold * self.spread()))

    def update(self, x: float, at: float, adapt_after: int = 0) -> float:
        """Score, then learn or advance, as :meth:`Detector.update` does, in one pass.

        Every reading of an analogue sensor comes through here. Once the detector is warmed up and
        away from a former baseline, the median, the spread and the short-term level are computed
        once for both steps. The results equal the generic path's, which
        ``test_fused_update_matches_generic_path`` checks.
        """
        median = self._median.get()
        learned = self.learned
        if self._former is not None or learned < self.warm_up or median is None:
            return super().update(x, at, adapt_after)
        # Attributes are read once into locals: this runs for nearly every reading.
        short = self._short
        last_at = self._last_at
        if short is None or (last_at is not None and at - last_at > self.max_gap_seconds):
            short = x
        else:
            fading = self.short_fading
            short = fading * x + (1.0 - fading) * short
        spread = self._spread.get() * 1.2533 if learned > 1 else 0.0
        if spread < self.min_spread:
            spread = self.min_spread
        score: float = abs(short - median) / (self.threshold * spread)
        self._short = short
        self._last_at = at
        if score < 1.0:
            self.flagged_run = 0
            deviation = abs(x - median)
            if learned > self.warm_up and deviation > self.clip * spread:
                deviation = self.clip * spread
            self._spread.update(deviation)
            self._median.update(x)
            self.learned = learned + 1
            return score
        self.flagged_run += 1
        if adapt_after > 0 and self.flagged_run > adapt_after:
            self.flagged_run = 0
            self.adapt(x, at)
        return score

    def learn_one(self, x: float, at: float) -> None:
        level = self._short_level(x, at)
        if self._former is not None:
            self._since_adapt += 1
            former = self._distance(x, self._former)
            current = self._distance(level, self._median)
            if former is not None and former < 1.0 and (current is None or former < current):
                # Back at the level it had before the shift: that baseline is the normal one again,
                # and a relapse to the shifted level is flagged anew.
                self._median, self._former = self._former, None
                level = x
            elif self._since_adapt >= self.window:
                self._former = None
        median = self._median.get() if self.learned else None
        if median is not None:
            # Winsorise the deviation so a slow drift cannot inflate the spread it is measured in.
            deviation = abs(x - median)
            if self.learned > self.warm_up:
                deviation = min(deviation, self.clip * self.spread())
            self._spread.update(deviation)
        self._median.update(x)
        self._short = level
        self._last_at = at
        self.learned += 1

    def adapt(self, x: float, at: float) -> None:
        """Restart the baseline from the current value after a persistent level shift."""
        spread = self.spread()
        self._former = self._median
        self._since_adapt = 0
        self._median = stats.RollingQuantile(0.5, window_size=self.window)
        self._median.update(x)
        self._short = x
        self._last_at = at
        # Keep the learned spread so the detector scores at once on the new level.
        self._spread = stats.EWMean(fading_factor=self._spread.fading_factor)
        self._spread.update(spread / 1.2533)
        self.learned = self.warm_up

    def advance(self, x: float, at: float) -> None:
        """Move the short-term level and clock forward without learning a flagged value."""
        self._short = self._short_level(x, at)
        self._last_at = at
