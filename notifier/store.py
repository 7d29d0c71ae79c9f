"""Delivery log and retry queue in the ``notification_deliveries`` table.

A delivery moves through these states, one row per (event_id, channel):

- ``pending``: a worker owns the attempt until ``next_attempt_at`` (its lease). The row is inserted
  in this state before the first attempt, with ``ON CONFLICT DO NOTHING``, so a redelivered Kafka
  message finds the row and skips it.
- ``retrying``: the last attempt failed and another is due at ``next_attempt_at``.
- ``delivered`` or ``failed``: final.

At-most-twice window: when the process dies after the channel accepted the alert (HTTP 2xx, SMTP
250) and before ``mark_delivered`` commits, the row stays ``pending``; once its lease expires the
retry queue sends it again. The window is that one update, which the dispatcher retries for half
the lease before giving up, and both channels carry the event id (``Idempotency-Key`` header,
Message-ID) so that the receiver can drop the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from notifier.routing import Route
from schemas.events import Alert

_CLAIM_NEW = """
INSERT INTO notification_deliveries (
    event_id, alert_id, alert_sequence, alert_state, severity, farm_id, house_number,
    channel, rule, status, attempts, first_attempt_at, last_attempt_at, next_attempt_at, payload
) VALUES (
    %(event_id)s, %(alert_id)s, %(sequence)s, %(state)s, %(severity)s, %(farm_id)s, %(house_number)s,
    %(channel)s, %(rule)s, 'pending', 1, %(now)s, %(now)s, %(lease_until)s, %(payload)s
)
ON CONFLICT (event_id, channel) DO NOTHING
RETURNING id, event_id::text, channel, rule, attempts, first_attempt_at, payload
"""

_EXISTING_STATUS = """
SELECT status FROM notification_deliveries WHERE event_id = %(event_id)s AND channel = %(channel)s
"""

# SKIP LOCKED lets several notifier processes share the queue without taking the same row.
_CLAIM_DUE = """
UPDATE notification_deliveries
SET status = 'pending', attempts = attempts + 1, last_attempt_at = %(now)s,
    next_attempt_at = %(lease_until)s, updated_at = now()
WHERE id = (
    SELECT id FROM notification_deliveries
    WHERE status IN ('pending', 'retrying') AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, event_id::text, channel, rule, attempts, first_attempt_at, payload
"""

_MARK_DELIVERED = """
UPDATE notification_deliveries
SET status = 'delivered', delivered_at = %(now)s, next_attempt_at = NULL, last_error = NULL,
    updated_at = now()
WHERE id = %(id)s
"""

_MARK_RETRYING = """
UPDATE notification_deliveries
SET status = 'retrying', next_attempt_at = %(next_attempt_at)s, last_error = %(error)s, updated_at = now()
WHERE id = %(id)s
"""

_MARK_FAILED = """
UPDATE notification_deliveries
SET status = 'failed', next_attempt_at = NULL, last_error = %(error)s, updated_at = now()
WHERE id = %(id)s
"""


@dataclass(frozen=True)
class Delivery:
    """A delivery this worker now owns: the row's id, its counters and the alert to send."""

    id: int
    event_id: str
    channel: str
    rule: str
    attempts: int
    """Attempts started so far, this one included."""
    first_attempt_at: datetime
    alert: Alert

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Delivery:
        """Build a delivery from a row returned by a claim query."""
        return cls(
            id=row["id"],
            event_id=row["event_id"],
            channel=row["channel"],
            rule=row["rule"],
            attempts=row["attempts"],
            first_attempt_at=row["first_attempt_at"],
            alert=Alert.model_validate(row["payload"]),
        )


class DeliveryStore:
    """Reads and writes the delivery log through a connection pool; each call is its own transaction."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def claim_new(
        self, alert: Alert, route: Route, now: datetime, lease_until: datetime
    ) -> tuple[Delivery | None, str | None]:
        """Insert a pending row for a first attempt.

        Returns the delivery when this call created the row, else None and the status of the row
        that was already there (a redelivered message or a restart).
        """
        parameters = {
            "event_id": alert.event_id,
            "alert_id": alert.alert_id,
            "sequence": alert.sequence,
            "state": alert.state,
            "severity": alert.severity,
            "farm_id": alert.farm_id,
            "house_number": alert.house_number,
            "channel": route.channel,
            "rule": route.rule,
            "now": now,
            "lease_until": lease_until,
            "payload": Jsonb(alert.model_dump(mode="json")),
        }
        with self._pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(_CLAIM_NEW, parameters)
            row = cursor.fetchone()
            if row is not None:
                return Delivery.from_row(row), None
            cursor.execute(_EXISTING_STATUS, parameters)
            existing = cursor.fetchone()
        return None, (existing["status"] if existing is not None else None)

    def claim_due(self, now: datetime, lease_until: datetime) -> Delivery | None:
        """Take the oldest delivery whose retry is due or whose lease expired, or return None."""
        with self._pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(_CLAIM_DUE, {"now": now, "lease_until": lease_until})
            row = cursor.fetchone()
        return Delivery.from_row(row) if row is not None else None

    def mark_delivered(self, delivery: Delivery, now: datetime) -> None:
        """Record that the channel accepted the alert."""
        self._execute(_MARK_DELIVERED, {"id": delivery.id, "now": now})

    def mark_retrying(self, delivery: Delivery, error: str, next_attempt_at: datetime) -> None:
        """Record a failed attempt and when to try again."""
        self._execute(_MARK_RETRYING, {"id": delivery.id, "error": error, "next_attempt_at": next_attempt_at})

    def mark_failed(self, delivery: Delivery, error: str) -> None:
        """Record that the delivery gave up after its last attempt."""
        self._execute(_MARK_FAILED, {"id": delivery.id, "error": error})

    def check_schema(self) -> bool:
        """Return whether the notification_deliveries table exists."""
        with self._pool.connection() as connection:
            row = connection.execute("SELECT to_regclass('notification_deliveries')").fetchone()
        return row is not None and row[0] is not None

    def _execute(self, query: str, parameters: dict[str, Any]) -> None:
        with self._pool.connection() as connection:
            connection.execute(query, parameters)
