"""Retry policy of one delivery: exponential backoff with jitter, bounded in attempts and total time."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.config import RetryConfig


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed delivery again, and when to give up and record it as failed."""

    max_attempts: int
    initial_delay_seconds: float
    max_delay_seconds: float
    max_total_seconds: float
    multiplier: float
    jitter: float

    @classmethod
    def from_config(cls, config: RetryConfig) -> RetryPolicy:
        """Build the policy from the ``[retry]`` section of the configuration file."""
        return cls(
            max_attempts=config.max_attempts,
            initial_delay_seconds=config.initial_delay_seconds,
            max_delay_seconds=config.max_delay_seconds,
            max_total_seconds=config.max_total_seconds,
            multiplier=config.multiplier,
            jitter=config.jitter,
        )

    def backoff_seconds(self, attempts: int, draw: Callable[[], float] = random.random) -> float:
        """Return the wait after the attempts-th failed attempt.

        The delay grows by ``multiplier`` per attempt up to ``max_delay_seconds``. A ``jitter``
        fraction of it is removed at random, so deliveries that failed together do not all retry
        at the same instant. ``draw`` returns a number in [0, 1).
        """
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        exponent = min(attempts - 1, 64)
        delay = min(self.max_delay_seconds, self.initial_delay_seconds * self.multiplier**exponent)
        return delay * (1.0 - self.jitter * draw())

    def next_attempt_at(
        self,
        attempts: int,
        first_attempt_at: datetime,
        now: datetime,
        draw: Callable[[], float] = random.random,
    ) -> datetime | None:
        """Return when to try again after the attempts-th failure, or None when the budget is spent."""
        if attempts >= self.max_attempts:
            return None
        due = now + timedelta(seconds=self.backoff_seconds(attempts, draw))
        if (due - first_attempt_at).total_seconds() > self.max_total_seconds:
            return None
        return due
