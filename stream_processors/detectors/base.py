"""The detector contract shared by every per-sensor anomaly detector.

A detector receives one sensor's values in event-time order. ``score_one(x, at)`` returns an anomaly
score without changing state: 0 means normal and 1.0 or more means anomalous. ``learn_one(x, at)``
updates the state. ``update(x, at)`` does both in the order every caller needs: it scores, then
learns only when the point was not flagged, so anomalies never enter the baseline. Times are
seconds since the epoch taken from the events, never from the wall clock.

Detectors are pure computation: they log nothing, read no clock and pickle cleanly, so the
stream processor can checkpoint them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Detector(ABC):
    """An online anomaly detector over one sensor's float values."""

    warm_up: int
    """Points learned before the detector may return a non-zero score."""

    def __init__(self, warm_up: int) -> None:
        if warm_up < 1:
            raise ValueError(f"warm_up must be at least 1, got {warm_up}")
        self.warm_up = warm_up
        self.learned = 0
        self.flagged_run = 0

    @property
    def warming_up(self) -> bool:
        """Whether the detector has learned too few points to score."""
        return self.learned < self.warm_up

    @abstractmethod
    def score_one(self, x: float, at: float) -> float:
        """Return the anomaly score of a value at an event time; 1.0 or more means anomalous."""

    @abstractmethod
    def learn_one(self, x: float, at: float) -> None:
        """Learn a value observed at an event time as normal."""

    @abstractmethod
    def advance(self, x: float, at: float) -> None:
        """Move input smoothing and the clock past a flagged value without learning it."""

    def adapt(self, x: float, at: float) -> None:
        """Accept a persistent shift as the new normal; the default learns the value anyway."""
        self.learn_one(x, at)

    def update(self, x: float, at: float, adapt_after: int = 0) -> float:
        """Score a value, then learn it unless it was flagged, and return the score.

        When ``adapt_after`` is positive, a run of more than that many flagged points in a row is
        treated as a level shift that has become the new normal, and the detector adapts to it.
        """
        score = self.score_one(x, at)
        if score < 1.0:
            self.flagged_run = 0
            self.learn_one(x, at)
            return score
        self.flagged_run += 1
        self.advance(x, at)
        if adapt_after > 0 and self.flagged_run > adapt_after:
            self.flagged_run = 0
            self.adapt(x, at)
        return score
