"""Integration tests of the notifier service with the real Kafka broker and PostgreSQL.

Alerts are produced to a per-test alerts topic. The notifier delivers them to a webhook receiver
and an SMTP server that the test starts on 127.0.0.1. Each test uses its own farm id, so its alert
events and delivery rows are its own in the session's database.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Producer
from prometheus_client import CollectorRegistry

from notifier.config import LoadedConfig, NotifierSettings, load_config
from notifier.metrics import NotifierMetrics
from notifier.service import NotifierService
from notifier.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from schemas.events import Alert, DeadLetter, readings_key
from schemas.topics import ALERTS, DEAD_LETTER, topic_name
from tests.conftest import ConsumeMessages
from tests.notifier.helpers import SmtpReceiver, WebhookReceiver, make_alert

pytestmark = pytest.mark.integration

SECRET = "integration-hook-secret"
WAIT_SECONDS = 60.0


def _config(
    tmp_path: Path, webhook: WebhookReceiver, smtp: SmtpReceiver, max_attempts: int = 5
) -> LoadedConfig:
    text = f"""
[channels.ops]
type = "webhook"
url = "{webhook.url}"
secret_env = "TEST_NOTIFIER_WEBHOOK_SECRET"
timeout_seconds = 5

[channels.grower]
type = "email"
host = "127.0.0.1"
port = {smtp.port}
from = "farmstream <alerts@farm.test>"
to = ["grower@farm.test"]
timeout_seconds = 5

[[rules]]
name = "everything-to-ops"
channels = ["ops"]

[[rules]]
name = "critical-to-grower"
min_severity = "critical"
states = ["open", "resolved"]
channels = ["grower"]

[retry]
max_attempts = {max_attempts}
initial_delay_seconds = 0.2
max_delay_seconds = 0.5
max_total_seconds = 120
lease_seconds = 30
"""
    path = tmp_path / "notifier.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, {"TEST_NOTIFIER_WEBHOOK_SECRET": SECRET})


def _settings(kafka_bootstrap: str, topic_prefix: str, database_url: str, group: str) -> NotifierSettings:
    return NotifierSettings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        database_url=database_url,
        notifier_group_id=group,
        notifier_metrics_port=0,
        notifier_retry_poll_seconds=0.1,
    )


@contextmanager
def _running(settings: NotifierSettings, config: LoadedConfig) -> Iterator[NotifierMetrics]:
    """Run a notifier in a thread until the block ends, then check that it stopped cleanly."""
    metrics = NotifierMetrics(CollectorRegistry())
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            NotifierService(settings, config, metrics).run(stop)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, name="notifier-under-test")
    thread.start()
    try:
        yield metrics
    finally:
        stop.set()
        thread.join(90)
    assert not thread.is_alive(), "the notifier did not stop within 90 s"
    assert errors == []


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT_SECONDS} s waiting for {what}")
        time.sleep(0.1)


def _produce(kafka_bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all"})
    for key, value in values:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def _alert_messages(alerts: list[Alert]) -> list[tuple[bytes, bytes]]:
    return [(readings_key(alert.farm_id, alert.house_number), alert.to_bytes()) for alert in alerts]


def _value(metrics: NotifierMetrics, counter: Any, *labels: str) -> float:
    return float(counter.labels(*labels)._value.get())


def _rows(database_url: str, farm_id: str) -> list[dict[str, Any]]:
    with (
        psycopg.connect(database_url) as connection,
        connection.cursor(row_factory=psycopg.rows.dict_row) as cursor,
    ):
        cursor.execute(
            "SELECT event_id::text, channel, rule, status, attempts, last_error, delivered_at"
            " FROM notification_deliveries WHERE farm_id = %s ORDER BY event_id, channel",
            (farm_id,),
        )
        return list(cursor.fetchall())


def _unique_farm() -> str:
    return f"farm-{uuid.uuid4().hex[:10]}"


def test_alerts_delivered_once_across_restarts(
    tmp_path: Path,
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    webhook_receiver: WebhookReceiver,
    smtp_receiver: SmtpReceiver,
) -> None:
    farm = _unique_farm()
    opened = make_alert(farm_id=farm)
    reminder = make_alert(farm_id=farm, state="reminder", sequence=1, minutes_open=60)
    warning = make_alert(farm_id=farm, house_number=4, subject="humidity.inside", severity="warning")
    alerts_topic = topic_name(ALERTS, topic_prefix)
    config = _config(tmp_path, webhook_receiver, smtp_receiver)
    settings = _settings(kafka_bootstrap, topic_prefix, database_url, group=f"notifier-{uuid.uuid4().hex}")

    _produce(kafka_bootstrap, alerts_topic, _alert_messages([opened, reminder, warning]))
    with _running(settings, config):
        _wait_until(lambda: len(webhook_receiver.accepted()) == 3, "3 webhook deliveries")
        _wait_until(lambda: len(smtp_receiver.messages) == 1, "1 e-mail")

    webhook_ids = sorted(request.headers["Idempotency-Key"] for request in webhook_receiver.requests)
    assert webhook_ids == sorted([opened.event_id, reminder.event_id, warning.event_id])
    for request in webhook_receiver.requests:
        timestamp = request.headers[TIMESTAMP_HEADER]
        assert verify_signature(
            SECRET.encode(), request.body, timestamp, request.headers[SIGNATURE_HEADER], float(timestamp)
        )
    assert smtp_receiver.messages[0]["X-Farmstream-Event-Id"] == opened.event_id
    rows = _rows(database_url, farm)
    assert len(rows) == 4
    assert {row["status"] for row in rows} == {"delivered"}
    assert {row["attempts"] for row in rows} == {1}

    # The same group again: committed offsets mean nothing is read twice; a new alert still goes out.
    resolved = make_alert(farm_id=farm, state="resolved", sequence=2, minutes_open=90)
    _produce(kafka_bootstrap, alerts_topic, _alert_messages([resolved]))
    with _running(settings, config):
        _wait_until(lambda: len(webhook_receiver.accepted()) == 4, "the resolved alert by webhook")
        _wait_until(lambda: len(smtp_receiver.messages) == 2, "the resolved alert by e-mail")

    # A new group reads the topic from the beginning (an offset reset), and the same events are
    # published again (a replaying producer): the delivery log turns all of it into skips.
    _produce(kafka_bootstrap, alerts_topic, _alert_messages([opened, reminder, warning, resolved]))
    replay = settings.model_copy(update={"notifier_group_id": f"notifier-{uuid.uuid4().hex}"})
    with _running(replay, config) as metrics:
        # 4 messages twice: opened and resolved go to two channels, reminder and warning to one.
        _wait_until(
            lambda: (
                _value(metrics, metrics.duplicates_skipped, "ops") == 8
                and _value(metrics, metrics.duplicates_skipped, "grower") == 4
            ),
            "every redelivered alert state to be skipped",
        )
        assert _value(metrics, metrics.deliveries, "ops", "delivered") == 0

    assert len(webhook_receiver.requests) == 4
    assert len(smtp_receiver.messages) == 2
    assert len(_rows(database_url, farm)) == 6


def test_failing_webhook_retried_then_delivered(
    tmp_path: Path,
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    webhook_receiver: WebhookReceiver,
    smtp_receiver: SmtpReceiver,
) -> None:
    farm = _unique_farm()
    alert = make_alert(farm_id=farm, severity="warning")
    webhook_receiver.statuses.append(500)
    config = _config(tmp_path, webhook_receiver, smtp_receiver)
    settings = _settings(kafka_bootstrap, topic_prefix, database_url, group=f"notifier-{uuid.uuid4().hex}")

    _produce(kafka_bootstrap, topic_name(ALERTS, topic_prefix), _alert_messages([alert]))
    with _running(settings, config) as metrics:
        _wait_until(lambda: len(webhook_receiver.accepted()) == 1, "the retried webhook delivery")
        _wait_until(
            lambda: _value(metrics, metrics.deliveries, "ops", "delivered") == 1, "the delivered count"
        )
        assert _value(metrics, metrics.retries, "ops") == 1

    assert [request.status for request in webhook_receiver.requests] == [500, 200]
    first, second = webhook_receiver.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == alert.event_id
    [row] = _rows(database_url, farm)
    assert row["status"] == "delivered"
    assert row["attempts"] == 2
    assert row["delivered_at"] is not None


def test_dead_channel_fails_without_blocking(
    tmp_path: Path,
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    webhook_receiver: WebhookReceiver,
    smtp_receiver: SmtpReceiver,
) -> None:
    farm = _unique_farm()
    first = make_alert(farm_id=farm)
    second = make_alert(farm_id=farm, house_number=5)
    webhook_receiver.statuses.extend([503] * 100)
    config = _config(tmp_path, webhook_receiver, smtp_receiver, max_attempts=3)
    settings = _settings(kafka_bootstrap, topic_prefix, database_url, group=f"notifier-{uuid.uuid4().hex}")

    _produce(kafka_bootstrap, topic_name(ALERTS, topic_prefix), _alert_messages([first, second]))
    with _running(settings, config) as metrics:
        _wait_until(lambda: len(smtp_receiver.messages) == 2, "both e-mails")
        _wait_until(
            lambda: _value(metrics, metrics.deliveries, "ops", "failed") == 2, "both webhooks to fail"
        )

    assert len(webhook_receiver.requests) == 6
    rows = {(row["event_id"], row["channel"]): row for row in _rows(database_url, farm)}
    for alert in (first, second):
        assert rows[(alert.event_id, "grower")]["status"] == "delivered"
        webhook_row = rows[(alert.event_id, "ops")]
        assert webhook_row["status"] == "failed"
        assert webhook_row["attempts"] == 3
        assert "returned HTTP 503" in webhook_row["last_error"]


def test_malformed_messages_dead_lettered(
    tmp_path: Path,
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    consume_messages: ConsumeMessages,
    webhook_receiver: WebhookReceiver,
    smtp_receiver: SmtpReceiver,
) -> None:
    farm = _unique_farm()
    valid = make_alert(farm_id=farm, severity="info")
    missing_fields = b'{"kind": "alert", "farm_id": "%s", "house_number": 2}' % farm.encode()
    not_json = b"\xff\xfe not json"
    config = _config(tmp_path, webhook_receiver, smtp_receiver)
    settings = _settings(kafka_bootstrap, topic_prefix, database_url, group=f"notifier-{uuid.uuid4().hex}")
    alerts_topic = topic_name(ALERTS, topic_prefix)

    # One key keeps the three messages on one partition, so the valid one is read after the others.
    key = readings_key(farm, 2)
    _produce(kafka_bootstrap, alerts_topic, [(key, missing_fields), (key, not_json), (key, valid.to_bytes())])
    with _running(settings, config) as metrics:
        _wait_until(lambda: len(webhook_receiver.accepted()) == 1, "the valid alert after the malformed ones")
        assert _value(metrics, metrics.dead_letters, "InvalidAlert") == 1
        assert _value(metrics, metrics.dead_letters, "InvalidJSON") == 1

    letters = [
        DeadLetter.model_validate_json(message.value() or b"")
        for message in consume_messages(topic_name(DEAD_LETTER, topic_prefix), 2)
    ]
    by_type = {letter.error_type: letter for letter in letters}
    invalid = by_type["InvalidAlert"]
    assert invalid.stage == "notifier"
    assert invalid.farm_id == farm
    assert invalid.house_number == 2
    assert invalid.raw_encoding == "utf-8"
    assert invalid.raw_payload.encode() == missing_fields
    assert invalid.source_topic == alerts_topic
    assert "event_id: Field required" in invalid.reason
    garbage = by_type["InvalidJSON"]
    assert garbage.raw_encoding == "base64"
    assert garbage.farm_id is None


def test_interrupted_delivery_resumed_once(
    tmp_path: Path,
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    webhook_receiver: WebhookReceiver,
    smtp_receiver: SmtpReceiver,
) -> None:
    farm = _unique_farm()
    alert = make_alert(farm_id=farm, severity="warning")
    config = _config(tmp_path, webhook_receiver, smtp_receiver)
    settings = _settings(kafka_bootstrap, topic_prefix, database_url, group=f"notifier-{uuid.uuid4().hex}")

    # A notifier that died mid-attempt left a pending row whose lease has run out.
    with _running(settings, config):
        pass
    with psycopg.connect(database_url) as connection:
        connection.execute(
            "INSERT INTO notification_deliveries (event_id, alert_id, alert_sequence, alert_state, severity,"
            " farm_id, house_number, channel, rule, status, attempts, first_attempt_at, last_attempt_at,"
            " next_attempt_at, payload) VALUES (%s, %s, 0, 'open', 'warning', %s, 3, 'ops',"
            " 'everything-to-ops', 'pending', 1, now() - interval '1 minute', now() - interval '1 minute',"
            " now() - interval '1 second', %s)",
            (alert.event_id, alert.alert_id, farm, psycopg.types.json.Jsonb(alert.model_dump(mode="json"))),
        )

    _produce(kafka_bootstrap, topic_name(ALERTS, topic_prefix), _alert_messages([alert]))
    with _running(settings, config) as metrics:
        _wait_until(lambda: len(webhook_receiver.accepted()) == 1, "the resumed delivery")
        _wait_until(
            lambda: _value(metrics, metrics.duplicates_skipped, "ops") == 1, "the Kafka copy to be skipped"
        )

    assert len(webhook_receiver.requests) == 1
    [row] = _rows(database_url, farm)
    assert row["status"] == "delivered"
    assert row["attempts"] == 2
