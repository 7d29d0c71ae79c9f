"""Unit tests of the retry policy, with a fixed jitter draw and a fake clock (plain datetimes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifier.retry import RetryPolicy

START = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def _policy(**overrides: float) -> RetryPolicy:
    values: dict[str, float] = {
        "max_attempts": 5,
        "initial_delay_seconds": 2.0,
        "max_delay_seconds": 20.0,
        "max_total_seconds": 3600.0,
        "multiplier": 3.0,
        "jitter": 0.5,
    }
    values.update(overrides)
    return RetryPolicy(
        max_attempts=int(values["max_attempts"]),
        initial_delay_seconds=values["initial_delay_seconds"],
        max_delay_seconds=values["max_delay_seconds"],
        max_total_seconds=values["max_total_seconds"],
        multiplier=values["multiplier"],
        jitter=values["jitter"],
    )


def test_backoff_grows_exponentially_to_cap() -> None:
    policy = _policy(jitter=0.0)
    delays = [policy.backoff_seconds(attempts) for attempts in range(1, 6)]
    assert delays == [2.0, 6.0, 18.0, 20.0, 20.0]


def test_jitter_shortens_delay_by_draw() -> None:
    policy = _policy(jitter=0.5)
    assert policy.backoff_seconds(2, draw=lambda: 0.0) == 6.0
    assert policy.backoff_seconds(2, draw=lambda: 0.5) == 4.5
    assert policy.backoff_seconds(2, draw=lambda: 0.999) == pytest.approx(3.003)


def test_backoff_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1, got 0"):
        _policy().backoff_seconds(0)


def test_next_attempt_follows_fake_clock() -> None:
    policy = _policy(jitter=0.0)
    now = START
    schedule = []
    for attempts in range(1, 5):
        due = policy.next_attempt_at(attempts, START, now, draw=lambda: 0.0)
        assert due is not None
        schedule.append((due - START).total_seconds())
        now = due
    assert schedule == [2.0, 8.0, 26.0, 46.0]


def test_attempt_budget_ends_retries() -> None:
    policy = _policy(max_attempts=3)
    assert policy.next_attempt_at(2, START, START, draw=lambda: 0.0) is not None
    assert policy.next_attempt_at(3, START, START, draw=lambda: 0.0) is None


def test_time_budget_ends_retries() -> None:
    policy = _policy(max_attempts=100, jitter=0.0, max_total_seconds=60.0)
    assert policy.next_attempt_at(
        4, START, START + timedelta(seconds=40), draw=lambda: 0.0
    ) == START + timedelta(seconds=60)
    assert policy.next_attempt_at(4, START, START + timedelta(seconds=41), draw=lambda: 0.0) is None
