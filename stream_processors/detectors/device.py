"""Detector for discrete device states (how many heaters, fans or pumps are running)."""

from __future__ import annotations

from river import stats

from stream_processors.detectors.base import Detector


class DeviceStateDetector(Detector):
    """Flags a device state held far longer than usual, or a state almost never seen.

    Devices switch on and off in cycles, so the useful signal is the run length of each state:
    the detector keeps a P² estimate (River's ``Quantile``) of the 95th percentile of completed
    run lengths, in seconds, and scores the current run against ``factor`` times it. A heater bank
    stuck on, or fans stuck off through a hot afternoon, stands out that way. A state that made up
    less than ``rare_share`` of the time so far also scores as anomalous. Gaps longer than
    ``max_gap_seconds`` end the current run without counting it, because its length is unknown.
    """

    def __init__(
        self,
        warm_up: int = 288,
        factor: float = 3.0,
        rare_share: float = 0.002,
        min_run_seconds: float = 3600.0,
        max_gap_seconds: float = 1800.0,
    ) -> None:
        super().__init__(warm_up)
        self.factor = factor
        self.rare_share = rare_share
        self.min_run_seconds = min_run_seconds
        self.max_gap_seconds = max_gap_seconds
        self._run_quantile = stats.Quantile(0.95)
        self._runs_seen = 0
        self._state: float | None = None
        self._run_started: float | None = None
        self._last_at: float | None = None
        self._counts: dict[float, int] = {}

    def _current_run(self, x: float, at: float) -> float:
        if self._state is None or self._run_started is None or x != self._state:
            return 0.0
        if self._last_at is not None and at - self._last_at > self.max_gap_seconds:
            return 0.0
        return at - self._run_started

    def score_one(self, x: float, at: float) -> float:
        if self.warming_up:
            return 0.0
        share = self._counts.get(x, 0) / max(self.learned, 1)
        rare = 1.0 if share < self.rare_share else 0.0
        run = self._current_run(x, at)
        if self._runs_seen < 5:
            return rare
        typical = max(float(self._run_quantile.get() or 0.0), self.min_run_seconds)
        return max(rare, run / (self.factor * typical))

    def _move(self, x: float, at: float) -> None:
        gap = self._last_at is not None and at - self._last_at > self.max_gap_seconds
        if self._state is None or x != self._state or gap:
            if self._state is not None and self._run_started is not None and not gap:
                self._run_quantile.update(at - self._run_started)
                self._runs_seen += 1
            self._state = x
            self._run_started = at
        self._last_at = at

    def learn_one(self, x: float, at: float) -> None:
        self._counts[x] = self._counts.get(x, 0) + 1
        self._move(x, at)
        self.learned += 1

    def advance(self, x: float, at: float) -> None:
        self._move(x, at)

    def adapt(self, x: float, at: float) -> None:
        # A state that persisted through the adaptation horizon has a known run length now.
        self._counts[x] = self._counts.get(x, 0) + 1
        self.learned += 1
