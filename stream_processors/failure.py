"""Rolling error-rate failure score of one controller over its last scrape cycles."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

ERROR_KINDS = ("bad_quality", "missing_readings", "new_sentinels", "disconnected", "controller_alarms")


@dataclass(frozen=True)
class CycleErrors:
    """The error counts of one controller in one scrape cycle."""

    at: datetime
    bad_quality: int = 0
    missing_readings: int = 0
    new_sentinels: int = 0
    disconnected: int = 0
    controller_alarms: int = 0

    @property
    def failed(self) -> bool:
        return any(getattr(self, kind) for kind in ERROR_KINDS)


@dataclass(frozen=True)
class FailureVerdict:
    """A crossing of the failure threshold, with what the window contained."""

    score: float
    confidence: float
    window_start: datetime
    window_end: datetime
    evidence: dict[str, int]


@dataclass
class FailureScore:
    """The share of failed cycles in a sliding window, with hysteresis on the threshold.

    A verdict is returned when the score first reaches ``threshold`` with at least
    ``min_cycles`` cycles in the window. The next one comes only after the score fell below half
    of the threshold. Confidence grows with how far the score passed the threshold and with how full the
    window is, so an early verdict on a few cycles gets a lower confidence.
    """

    window: int = 12
    threshold: float = 0.3
    min_cycles: int = 3
    cycles: deque[CycleErrors] = field(default_factory=deque)
    raised: bool = False

    def score(self) -> float:
        """Return the share of failed cycles in the window, 0 when it is empty."""
        if not self.cycles:
            return 0.0
        return sum(1 for cycle in self.cycles if cycle.failed) / len(self.cycles)

    def add(self, cycle: CycleErrors) -> FailureVerdict | None:
        """Add one cycle and return a verdict if the score has just crossed the threshold."""
        self.cycles.append(cycle)
        while len(self.cycles) > self.window:
            self.cycles.popleft()
        score = self.score()
        if self.raised and score < self.threshold / 2:
            self.raised = False
        if self.raised or len(self.cycles) < self.min_cycles or score < self.threshold:
            return None
        self.raised = True
        excess = (score - self.threshold) / max(1.0 - self.threshold, 1e-9)
        confidence = (len(self.cycles) / self.window) * (0.5 + 0.5 * min(1.0, excess))
        evidence = {kind: sum(getattr(c, kind) for c in self.cycles) for kind in ERROR_KINDS}
        evidence["failed_cycles"] = sum(1 for c in self.cycles if c.failed)
        evidence["cycles"] = len(self.cycles)
        return FailureVerdict(
            score=score,
            confidence=round(min(1.0, confidence), 4),
            window_start=self.cycles[0].at,
            window_end=self.cycles[-1].at,
            evidence=evidence,
        )
