"""Route an alert state to its channels, attempt each delivery and record the outcome."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import PoolTimeout

from notifier.channels import Channel, DeliveryContext
from notifier.config import RoutingRule
from notifier.exceptions import DeliveryError
from notifier.metrics import NotifierMetrics
from notifier.retry import RetryPolicy
from notifier.routing import routes_for
from notifier.store import Delivery, DeliveryStore
from schemas.events import Alert

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Dispatcher:
    """Deliver alert states once per channel, and work the retry queue.

    The first attempt runs while the Kafka message is processed. A failed attempt is scheduled in
    the database and :meth:`process_due` runs the later attempts, so a failing channel delays the
    alerts behind it on the topic by one attempt's timeout at most.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        rules: Sequence[RoutingRule],
        store: DeliveryStore,
        policy: RetryPolicy,
        lease_seconds: float,
        metrics: NotifierMetrics,
        clock: Clock = utc_now,
        draw: Callable[[], float] = random.random,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._channels = channels
        self._rules = rules
        self._store = store
        self._policy = policy
        self._lease = timedelta(seconds=lease_seconds)
        self._metrics = metrics
        self._clock = clock
        self._draw = draw
        self._sleep = sleep

    def dispatch(self, alert: Alert) -> None:
        """Deliver one alert state to every channel its routing rules name, skipping recorded ones."""
        self._metrics.alerts_consumed.inc()
        routes = routes_for(alert, self._rules)
        if not routes:
            logger.debug("no routing rule matches the alert", extra=_alert_ids(alert))
        # NOTE: first attempts run one channel after another, so a channel that times out delays
        # the other channels of the same alert by its timeout.
        for route in routes:
            now = self._clock()
            delivery, existing_status = self._store.claim_new(alert, route, now, now + self._lease)
            if delivery is None:
                self._metrics.duplicates_skipped.labels(route.channel).inc()
                logger.info(
                    "alert state already in the delivery log, not sent again",
                    extra={**_alert_ids(alert), "channel": route.channel, "status": existing_status},
                )
                continue
            self.attempt(delivery)

    def process_due(self) -> bool:
        """Attempt the oldest due retry, or a delivery whose worker died; return whether there was one.

        NOTE: retries are not ordered with later states of the same alert, so a receiver can get
        ``resolved`` before a retried ``open``. The payload carries the ``sequence`` to order them by.
        """
        now = self._clock()
        delivery = self._store.claim_due(now, now + self._lease)
        if delivery is None:
            return False
        self.attempt(delivery)
        return True

    def attempt(self, delivery: Delivery) -> None:
        """Make one attempt of a claimed delivery and record delivered, retrying or failed."""
        channel = self._channels.get(delivery.channel)
        if channel is None:
            self._give_up(delivery, f"channel {delivery.channel!r} is no longer in the configuration")
            return

        context = DeliveryContext(
            event_id=delivery.event_id,
            channel=delivery.channel,
            rule=delivery.rule,
            attempt=delivery.attempts,
            sent_at=self._clock(),
        )
        try:
            channel.send(delivery.alert, context)
        except DeliveryError as error:
            self._record_failure(delivery, str(error), permanent=error.permanent)
            return
        except Exception as error:
            # A defect in a channel must not stop the consumer: it uses up the retry budget instead.
            logger.exception("channel raised an unexpected error", extra=_delivery_ids(delivery))
            self._record_failure(delivery, f"unexpected {type(error).__name__}: {error}", permanent=False)
            return

        now = self._clock()
        # Between the channel's acceptance and this update a failure means a second delivery later.
        self._record(lambda: self._store.mark_delivered(delivery, now), delivery)
        self._metrics.deliveries.labels(delivery.channel, "delivered").inc()
        self._metrics.delivery_latency.labels(delivery.channel).observe(
            max(0.0, (now - delivery.first_attempt_at).total_seconds())
        )
        logger.info("alert delivered", extra={**_delivery_ids(delivery), "attempt": delivery.attempts})

    def _record_failure(self, delivery: Delivery, error: str, *, permanent: bool) -> None:
        now = self._clock()
        next_attempt_at = None
        if not permanent:
            next_attempt_at = self._policy.next_attempt_at(
                delivery.attempts, delivery.first_attempt_at, now, self._draw
            )
        if next_attempt_at is None:
            self._give_up(delivery, error)
            return
        self._record(lambda: self._store.mark_retrying(delivery, error, next_attempt_at), delivery)
        self._metrics.retries.labels(delivery.channel).inc()
        logger.warning(
            "delivery attempt failed, retry scheduled",
            extra={
                **_delivery_ids(delivery),
                "attempt": delivery.attempts,
                "retry_at": next_attempt_at.isoformat(),
                "error": error,
            },
        )

    def _give_up(self, delivery: Delivery, error: str) -> None:
        self._record(lambda: self._store.mark_failed(delivery, error), delivery)
        self._metrics.deliveries.labels(delivery.channel, "failed").inc()
        logger.error(
            "delivery failed, no further attempts",
            extra={**_delivery_ids(delivery), "attempt": delivery.attempts, "error": error},
        )

    def _record(self, update: Callable[[], None], delivery: Delivery) -> None:
        """Run an outcome update, retrying connection errors with waits adding up to half the lease.

        The row stays leased to this worker meanwhile, so no other worker attempts it. When the
        waits are used up the error is raised, and the lease expiry hands the delivery to the retry
        queue (the update attempts themselves may add time on top of the waits).
        """
        budget = self._lease.total_seconds() / 2
        waited = 0.0
        delay = 0.5
        while True:
            try:
                update()
                return
            except (psycopg.OperationalError, PoolTimeout) as error:
                if waited + delay > budget:
                    raise
                logger.warning(
                    "recording a delivery outcome failed, trying again",
                    extra={**_delivery_ids(delivery), "retry_in_seconds": delay, "error": str(error)},
                )
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 8.0)


def _alert_ids(alert: Alert) -> dict[str, object]:
    return {
        "farm": alert.farm_id,
        "house": alert.house_number,
        "alert_id": alert.alert_id,
        "event_id": alert.event_id,
        "state": alert.state,
    }


def _delivery_ids(delivery: Delivery) -> dict[str, object]:
    return {**_alert_ids(delivery.alert), "channel": delivery.channel, "rule": delivery.rule}
