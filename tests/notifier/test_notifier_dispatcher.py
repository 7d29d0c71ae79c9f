"""Unit tests of the dispatcher's retry decisions with fakes: an in-memory store, clock and sleeper.

The SQL behind the real store is covered by the integration tests in test_notifier_service.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import cast

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from notifier.channels import DeliveryContext
from notifier.config import RoutingRule
from notifier.dispatcher import Dispatcher
from notifier.exceptions import DeliveryError
from notifier.metrics import NotifierMetrics
from notifier.retry import RetryPolicy
from notifier.routing import Route
from notifier.store import Delivery, DeliveryStore
from schemas.events import Alert
from tests.notifier.helpers import make_alert

START = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
LEASE_SECONDS = 60.0


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Row:
    delivery: Delivery
    status: str
    next_attempt_at: datetime | None
    last_error: str | None = None


@dataclass
class FakeStore:
    """Keeps rows in a dict keyed like the table's unique key, (event_id, channel)."""

    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    failures_before_update: int = 0

    def claim_new(
        self, alert: Alert, route: Route, now: datetime, lease_until: datetime
    ) -> tuple[Delivery | None, str | None]:
        key = (alert.event_id, route.channel)
        if key in self.rows:
            return None, self.rows[key].status
        delivery = Delivery(len(self.rows) + 1, alert.event_id, route.channel, route.rule, 1, now, alert)
        self.rows[key] = Row(delivery, "pending", lease_until)
        return delivery, None

    def claim_due(self, now: datetime, lease_until: datetime) -> Delivery | None:
        due = [
            row
            for row in self.rows.values()
            if row.status in {"pending", "retrying"}
            and row.next_attempt_at is not None
            and row.next_attempt_at <= now
        ]
        if not due:
            return None
        row = min(due, key=lambda item: cast(datetime, item.next_attempt_at))
        row.delivery = replace(row.delivery, attempts=row.delivery.attempts + 1)
        row.status, row.next_attempt_at = "pending", lease_until
        return row.delivery

    def mark_delivered(self, delivery: Delivery, now: datetime) -> None:
        if self.failures_before_update:
            self.failures_before_update -= 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        self._row(delivery).status = "delivered"

    def mark_retrying(self, delivery: Delivery, error: str, next_attempt_at: datetime) -> None:
        row = self._row(delivery)
        row.status, row.next_attempt_at, row.last_error = "retrying", next_attempt_at, error

    def mark_failed(self, delivery: Delivery, error: str) -> None:
        row = self._row(delivery)
        row.status, row.next_attempt_at, row.last_error = "failed", None, error

    def _row(self, delivery: Delivery) -> Row:
        return self.rows[(delivery.event_id, delivery.channel)]


@dataclass
class ScriptedChannel:
    """A channel that raises the scripted errors in turn, then succeeds."""

    name: str
    errors: list[DeliveryError] = field(default_factory=list)
    sent: list[DeliveryContext] = field(default_factory=list)

    def send(self, alert: Alert, context: DeliveryContext) -> None:
        self.sent.append(context)
        if self.errors:
            raise self.errors.pop(0)


@dataclass
class Harness:
    dispatcher: Dispatcher
    store: FakeStore
    channel: ScriptedChannel
    clock: FakeClock
    metrics: NotifierMetrics
    sleeps: list[float]


def _harness(max_attempts: int = 4, errors: list[DeliveryError] | None = None) -> Harness:
    store = FakeStore()
    channel = ScriptedChannel("hook", list(errors or []))
    clock = FakeClock()
    metrics = NotifierMetrics(CollectorRegistry())
    sleeps: list[float] = []
    policy = RetryPolicy(
        max_attempts=max_attempts,
        initial_delay_seconds=10.0,
        max_delay_seconds=100.0,
        max_total_seconds=3600.0,
        multiplier=2.0,
        jitter=0.5,
    )
    dispatcher = Dispatcher(
        channels={"hook": channel},
        rules=[RoutingRule(name="all", channels=["hook"])],
        store=cast(DeliveryStore, store),
        policy=policy,
        lease_seconds=LEASE_SECONDS,
        metrics=metrics,
        clock=clock,
        draw=lambda: 0.0,
        sleep=sleeps.append,
    )
    return Harness(dispatcher, store, channel, clock, metrics, sleeps)


def _count(counter: object, *labels: str) -> float:
    return float(counter.labels(*labels)._value.get())  # type: ignore[attr-defined]


def test_transient_failure_retried_when_due() -> None:
    harness = _harness(errors=[DeliveryError("HTTP 500")])
    alert = make_alert()
    harness.dispatcher.dispatch(alert)
    [row] = harness.store.rows.values()
    assert row.status == "retrying"
    assert row.next_attempt_at == START + timedelta(seconds=10)
    assert row.last_error == "HTTP 500"

    harness.clock.advance(9)
    assert harness.dispatcher.process_due() is False
    harness.clock.advance(1)
    assert harness.dispatcher.process_due() is True

    assert row.status == "delivered"
    assert [context.attempt for context in harness.channel.sent] == [1, 2]
    assert _count(harness.metrics.retries, "hook") == 1
    assert _count(harness.metrics.deliveries, "hook", "delivered") == 1


def test_permanent_failure_not_retried() -> None:
    harness = _harness(errors=[DeliveryError("HTTP 404", permanent=True)])
    harness.dispatcher.dispatch(make_alert())
    [row] = harness.store.rows.values()
    assert row.status == "failed"
    assert len(harness.channel.sent) == 1
    assert _count(harness.metrics.retries, "hook") == 0
    assert _count(harness.metrics.deliveries, "hook", "failed") == 1


def test_attempt_budget_records_failure() -> None:
    harness = _harness(max_attempts=3, errors=[DeliveryError("HTTP 503") for _ in range(10)])
    harness.dispatcher.dispatch(make_alert())
    for _ in range(5):
        harness.clock.advance(1000)
        harness.dispatcher.process_due()
    [row] = harness.store.rows.values()
    assert row.status == "failed"
    assert len(harness.channel.sent) == 3
    assert _count(harness.metrics.retries, "hook") == 2


def test_recorded_state_not_sent_again() -> None:
    harness = _harness()
    alert = make_alert()
    harness.dispatcher.dispatch(alert)
    harness.dispatcher.dispatch(alert)
    assert len(harness.channel.sent) == 1
    assert _count(harness.metrics.duplicates_skipped, "hook") == 1


def test_outcome_update_retried_after_database_error() -> None:
    harness = _harness()
    harness.store.failures_before_update = 2
    harness.dispatcher.dispatch(make_alert())
    [row] = harness.store.rows.values()
    assert row.status == "delivered"
    assert harness.sleeps == [0.5, 1.0]
    assert len(harness.channel.sent) == 1


def test_outcome_update_gives_up_after_half_lease() -> None:
    harness = _harness()
    harness.store.failures_before_update = 1000
    with pytest.raises(psycopg.OperationalError):
        harness.dispatcher.dispatch(make_alert())
    assert sum(harness.sleeps) <= LEASE_SECONDS / 2
    [row] = harness.store.rows.values()
    assert row.status == "pending"
