"""Integration tests of the sink against the stack's real Kafka broker and PostgreSQL.

Events produced to Kafka must appear exactly once in the database in four cases: after a replay
of the same events, and after a crash between the database commit and the offset commit. Also
after ``kill -9`` of a running ``farmstream sink`` process, and after the database rejected
connections for a while. While batches are written on the writer thread, every offset commit
must cover only rows already stored. The tests check this when batches overlap, when the database
goes away during a write, and when the sink is stopped with a write in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from prometheus_client import CollectorRegistry
from psycopg import sql

from migrations import apply_migrations
from schemas.events import readings_key
from schemas.topics import ALERTS, PREDICTIONS, READINGS, SCRAPE_LOG, topic_name
from sinks.app import build_sink
from sinks.config import SinkSettings
from sinks.metrics import SinkMetrics
from sinks.records import SinkEvent, TopicKind
from sinks.service import SinkService
from tests.sinks.sink_events import (
    alert,
    failure_prediction,
    house_status,
    reading,
    recommendation,
    scrape_log,
)

pytestmark = pytest.mark.integration

ALL_KINDS: tuple[TopicKind, ...] = ("readings", "alerts", "predictions", "scrape-log", "dead-letter")
WAIT_SECONDS = 90.0


class SimulatedCrash(BaseException):
    """Raised in place of the offset commit, as if the process died right before it."""


@pytest.fixture
def sink_database_url(admin_database_url: str) -> Iterator[str]:
    """Return a migrated database of its own, so the counts of one test see no other test's rows."""
    name = f"test_sink_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as connection:
        apply_migrations(connection)
    yield url
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _settings(bootstrap: str, prefix: str, database_url: str, group: str) -> SinkSettings:
    return SinkSettings(
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        database_url=database_url,
        sink_group_id=group,
        sink_batch_size=500,
        sink_batch_seconds=0.2,
        sink_session_timeout_ms=6000,
        sink_retry_initial_seconds=0.2,
        sink_retry_max_seconds=1.0,
        sink_metrics_port=0,
    )


def _produce(bootstrap: str, prefix: str, items: Sequence[tuple[str, bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for suffix, key, value in items:
        producer.produce(f"{prefix}{suffix}", value=value, key=key)
    assert producer.flush(30) == 0


def _messages(events: Sequence[SinkEvent]) -> list[tuple[str, bytes, bytes]]:
    suffix_by_kind = {
        "reading": READINGS.suffix,
        "house_status": READINGS.suffix,
        "alert": ALERTS.suffix,
        "failure_prediction": PREDICTIONS.suffix,
        "recommendation": PREDICTIONS.suffix,
        "scrape_log": SCRAPE_LOG.suffix,
    }
    items = []
    for event in events:
        house = getattr(event, "house_number", None)
        items.append((suffix_by_kind[event.kind], readings_key(event.farm_id, house), event.to_bytes()))
    return items


def _pipeline_events(farm: str, steps: int) -> list[SinkEvent]:
    events: list[SinkEvent] = []
    for house in (1, 2):
        events.extend(reading(farm, house, step) for step in range(steps))
        events.extend(house_status(farm, house, step) for step in range(3))
        events.extend(
            alert(farm, house, sequence, state)
            for sequence, state in enumerate(("open", "reminder", "resolved"))
        )
        events.append(failure_prediction(farm, house, 1))
        events.append(recommendation(farm, house, 2))
    events.extend(scrape_log(farm, cycle) for cycle in range(3))
    return events


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def _wait_for(condition: Callable[[], bool], description: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {description}")


def _uncommitted(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Return how many messages of the topics lie beyond the group's committed offsets."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10)
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in metadata.topics[topic].partitions
        ]
        committed = consumer.committed(partitions, timeout=10)
        behind = 0
        for item in committed:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(item.topic, item.partition), timeout=10
            )
            behind += high - max(item.offset, 0)
        return behind
    finally:
        consumer.close()


@contextmanager
def _running_sink(
    settings: SinkSettings,
    kinds: tuple[TopicKind, ...] = ALL_KINDS,
    prepare: Callable[[SinkService], None] | None = None,
) -> Iterator[tuple[SinkService, CollectorRegistry]]:
    registry = CollectorRegistry()
    service = build_sink(settings, kinds, SinkMetrics(registry))
    if prepare is not None:
        prepare(service)
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            service.run(stop)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run, name="sink-under-test", daemon=True)
    thread.start()
    try:
        yield service, registry
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert failures == []


def _reject_connections(admin_database_url: str, database: str, reject: bool) -> None:
    """Make PostgreSQL reject new connections to the database and end the open ones, or allow them."""
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        allow = sql.SQL("false" if reject else "true")
        connection.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(database), allow)
        )
        if reject:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )


Placement = dict[tuple[str, int, int], uuid.UUID]


def _produce_placed(bootstrap: str, prefix: str, events: Sequence[SinkEvent]) -> Placement:
    """Produce events and return the event id stored at each (topic, partition, offset)."""
    placement: Placement = {}
    failures: list[str] = []

    def on_delivery(event_id: str) -> Callable[[Any, Any], None]:
        def delivered(error: Any, message: Any) -> None:
            if error is not None:
                failures.append(str(error))
            else:
                placement[(message.topic(), message.partition(), message.offset())] = uuid.UUID(event_id)

        return delivered

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for event, (suffix, key, value) in zip(events, _messages(events), strict=True):
        producer.produce(f"{prefix}{suffix}", value=value, key=key, on_delivery=on_delivery(event.event_id))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []
    return placement


def _missing_before(
    url: str, placement: Placement, offsets: Sequence[TopicPartition]
) -> list[tuple[str, int, int]]:
    """Return the records before the given offsets whose readings are not stored."""
    missing: list[tuple[str, int, int]] = []
    with psycopg.connect(url) as connection:
        for item in offsets:
            expected = {
                event_id: place
                for place, event_id in placement.items()
                if place[:2] == (item.topic, item.partition) and place[2] < item.offset
            }
            rows = connection.execute(
                "SELECT event_id FROM readings WHERE event_id = ANY(%s)", (list(expected),)
            ).fetchall()
            stored = {row[0] for row in rows}
            missing.extend(place for event_id, place in expected.items() if event_id not in stored)
    return missing


class CommitAudit:
    """A consumer wrapper that checks, before each offset commit, that the rows it covers are stored."""

    def __init__(self, consumer: Any, url: str, placement: Placement) -> None:
        self._consumer = consumer
        self._url = url
        self._placement = placement
        self.commits = 0
        self.uncovered: list[tuple[str, int, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> Any:
        self.commits += 1
        self.uncovered.extend(_missing_before(self._url, self._placement, offsets))
        return self._consumer.commit(offsets=offsets, asynchronous=asynchronous)


def _audit_commits(
    url: str, placement: Placement, audits: list[CommitAudit]
) -> Callable[[SinkService], None]:
    def prepare(service: SinkService) -> None:
        audit = CommitAudit(service._consumer, url, placement)
        service._consumer = audit
        audits.append(audit)

    return prepare


def _committed_offsets(bootstrap: str, group: str, topic: str) -> list[TopicPartition]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return [item for item in committed if item.offset >= 0]
    finally:
        consumer.close()


def _topics(prefix: str, kinds: Sequence[TopicKind] = ALL_KINDS) -> list[str]:
    return [f"{prefix}{kind}" for kind in kinds]


def _table_counts(url: str) -> dict[str, int]:
    tables = (
        "readings",
        "house_status",
        "alerts",
        "alert_events",
        "predictions",
        "scrape_logs",
        "dead_letters",
    )
    return {table: _count(url, table) for table in tables}


def _expected_counts(steps: int, dead_letters: int) -> dict[str, int]:
    return {
        "readings": 2 * steps,
        "house_status": 6,
        "alerts": 2,
        "alert_events": 6,
        "predictions": 4,
        "scrape_logs": 3,
        "dead_letters": dead_letters,
    }


def test_events_land_once_after_replay(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    messages = _messages(_pipeline_events(farm, steps=40))
    messages.append((READINGS.suffix, b"farm-x/1", b"{not json"))
    messages.append((ALERTS.suffix, b"farm-x/1", b'{"kind": "alert", "alert_id": "missing fields"}'))
    group = f"sink-{uuid.uuid4().hex[:8]}"
    settings = _settings(kafka_bootstrap, topic_prefix, sink_database_url, group)

    _produce(kafka_bootstrap, topic_prefix, messages)
    with _running_sink(settings) as (_service, registry):
        _wait_for(lambda: _table_counts(sink_database_url) == _expected_counts(40, 2), "the first delivery")
        _produce(kafka_bootstrap, topic_prefix, messages)
        _wait_for(lambda: _uncommitted(kafka_bootstrap, group, _topics(topic_prefix)) == 0, "offset commits")

    assert _table_counts(sink_database_url) == _expected_counts(40, 2)
    with psycopg.connect(sink_database_url) as connection:
        alerts = connection.execute(
            "SELECT state, last_sequence FROM alerts ORDER BY house_number"
        ).fetchall()
        letters = connection.execute(
            "SELECT stage, error_type, source_topic, raw_payload FROM dead_letters ORDER BY error_type"
        ).fetchall()
    assert alerts == [("resolved", 2), ("resolved", 2)]
    assert letters == [
        ("sink", "InvalidJson", topic_name(READINGS, topic_prefix), "{not json"),
        (
            "sink",
            "SchemaInvalid",
            topic_name(ALERTS, topic_prefix),
            '{"kind": "alert", "alert_id": "missing fields"}',
        ),
    ]
    assert (
        registry.get_sample_value("farmstream_sink_dead_letters_total", {"error_type": "InvalidJson"}) == 2.0
    )
    assert registry.get_sample_value("farmstream_sink_rows_written_total", {"table": "readings"}) == 80.0


def test_crash_before_commit_rewrites_once(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    _produce(kafka_bootstrap, topic_prefix, _messages(_pipeline_events(farm, steps=30)))
    group = f"sink-{uuid.uuid4().hex[:8]}"
    settings = _settings(kafka_bootstrap, topic_prefix, sink_database_url, group)

    crashing = build_sink(settings, ALL_KINDS, SinkMetrics(CollectorRegistry()))
    real_consumer: Any = crashing._consumer

    class CrashOnCommit:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_consumer, name)

        def commit(self, **_arguments: Any) -> None:
            raise SimulatedCrash

    crashing._consumer = CrashOnCommit()
    with pytest.raises(SimulatedCrash):
        crashing.run()
    # A dead process remembers nothing: forget the pending offsets before close() runs on_revoke.
    crashing._uncommitted.clear()
    real_consumer.close()
    crashing._writer.close()
    written_before_crash = sum(_table_counts(sink_database_url).values())
    uncommitted_after_crash = _uncommitted(kafka_bootstrap, group, _topics(topic_prefix))

    with _running_sink(settings):
        _wait_for(lambda: _uncommitted(kafka_bootstrap, group, _topics(topic_prefix)) == 0, "offset commits")

    assert written_before_crash > 0
    assert uncommitted_after_crash == len(_pipeline_events(farm, steps=30))
    assert _table_counts(sink_database_url) == _expected_counts(30, 0)


def test_sigkill_mid_stream_loses_nothing(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    steps = 6000
    _produce(
        kafka_bootstrap,
        topic_prefix,
        _messages([reading(farm, house, step) for house in (1, 2) for step in range(steps)]),
    )
    group = f"sink-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "FARMSTREAM_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FARMSTREAM_TOPIC_PREFIX": topic_prefix,
        "FARMSTREAM_DATABASE_URL": sink_database_url,
        "FARMSTREAM_SINK_GROUP_ID": group,
        "FARMSTREAM_SINK_BATCH_SIZE": "200",
        "FARMSTREAM_SINK_SESSION_TIMEOUT_MS": "6000",
        "FARMSTREAM_SINK_METRICS_PORT": "0",
    }
    command = [sys.executable, "-m", "farmstream.cli", "sink", "--topics", "readings"]

    first = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _count(sink_database_url, "readings") > 0, "the first committed batches")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    killed_at = _count(sink_database_url, "readings")

    second = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(
            lambda: _uncommitted(kafka_bootstrap, group, _topics(topic_prefix, ["readings"])) == 0,
            "the restarted sink to commit every offset",
        )
    finally:
        os.kill(second.pid, signal.SIGTERM)
        second.wait(timeout=60)

    assert first.returncode == -signal.SIGKILL
    assert second.returncode == 0
    assert killed_at < 2 * steps
    assert _count(sink_database_url, "readings") == 2 * steps
    with psycopg.connect(sink_database_url) as connection:
        distinct = connection.execute("SELECT count(DISTINCT event_id) FROM readings").fetchone()
    assert distinct == (2 * steps,)


def test_database_outage_pauses_and_recovers(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str, admin_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    database = urlsplit(sink_database_url).path.lstrip("/")
    group = f"sink-{uuid.uuid4().hex[:8]}"
    settings = _settings(kafka_bootstrap, topic_prefix, sink_database_url, group)
    before = [reading(farm, 1, step) for step in range(50)]
    during = [reading(farm, 1, step) for step in range(50, 150)]

    _produce(kafka_bootstrap, topic_prefix, _messages(before))
    with _running_sink(settings, ("readings",)) as (_service, registry):
        _wait_for(lambda: _count(sink_database_url, "readings") == 50, "the rows written before the outage")
        _reject_connections(admin_database_url, database, True)
        try:
            _produce(kafka_bootstrap, topic_prefix, _messages(during))
            _wait_for(lambda: registry.get_sample_value("farmstream_sink_paused") == 1.0, "the sink to pause")
        finally:
            _reject_connections(admin_database_url, database, False)
        _wait_for(lambda: _count(sink_database_url, "readings") == 150, "the rows held during the outage")
        _wait_for(lambda: registry.get_sample_value("farmstream_sink_paused") == 0.0, "the sink to resume")
        _wait_for(
            lambda: _uncommitted(kafka_bootstrap, group, _topics(topic_prefix, ["readings"])) == 0,
            "offset commits",
        )

    errors = registry.get_sample_value("farmstream_sink_errors_total", {"kind": "database_unavailable"})
    assert errors is not None and errors >= 1
    assert _count(sink_database_url, "readings") == 150


def _spread_readings(farm: str, steps: int) -> list[SinkEvent]:
    """Return readings of six houses, whose keys spread them over the readings partitions."""
    return [reading(farm, house, step) for step in range(steps) for house in range(1, 7)]


def test_overlapped_batches_commit_after_writes(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    placement = _produce_placed(kafka_bootstrap, topic_prefix, _spread_readings(farm, steps=400))
    group = f"sink-{uuid.uuid4().hex[:8]}"
    settings = _settings(kafka_bootstrap, topic_prefix, sink_database_url, group).model_copy(
        update={"sink_batch_size": 150}
    )
    audits: list[CommitAudit] = []

    prepare = _audit_commits(sink_database_url, placement, audits)
    with _running_sink(settings, ("readings",), prepare) as (_service, registry):
        _wait_for(
            lambda: _uncommitted(kafka_bootstrap, group, _topics(topic_prefix, ["readings"])) == 0,
            "offset commits",
        )

    assert len(placement) == 2400
    assert audits[0].commits >= 2400 // 150
    assert audits[0].uncovered == []
    assert _count(sink_database_url, "readings") == 2400
    assert registry.get_sample_value("farmstream_sink_rows_written_total", {"table": "readings"}) == 2400.0


class OutageDuringWrite:
    """A writer wrapper that cuts the database off inside its third write, on the writer thread."""

    def __init__(self, writer: Any, cut: Callable[[], None]) -> None:
        self._writer = writer
        self._cut = cut
        self.calls = 0
        self.cut_on_thread = ""

    def write_batch(self, records: Sequence[Any]) -> Any:
        self.calls += 1
        if self.calls == 3:
            self.cut_on_thread = threading.current_thread().name
            self._cut()
        return self._writer.write_batch(records)

    def drop_old_readings(self, retain_days: int) -> int:
        return int(self._writer.drop_old_readings(retain_days))

    def close(self) -> None:
        self._writer.close()


def test_outage_during_write_loses_nothing(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str, admin_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    database = urlsplit(sink_database_url).path.lstrip("/")
    placement = _produce_placed(kafka_bootstrap, topic_prefix, _spread_readings(farm, steps=200))
    group = f"sink-{uuid.uuid4().hex[:8]}"
    settings = _settings(kafka_bootstrap, topic_prefix, sink_database_url, group).model_copy(
        update={"sink_batch_size": 150}
    )
    audits: list[CommitAudit] = []
    outages: list[OutageDuringWrite] = []

    def prepare(service: SinkService) -> None:
        _audit_commits(sink_database_url, placement, audits)(service)
        outage = OutageDuringWrite(
            service._writer, lambda: _reject_connections(admin_database_url, database, True)
        )
        service._writer = outage
        outages.append(outage)

    try:
        with _running_sink(settings, ("readings",), prepare) as (_service, registry):
            _wait_for(lambda: registry.get_sample_value("farmstream_sink_paused") == 1.0, "the sink to pause")
            _reject_connections(admin_database_url, database, False)
            _wait_for(
                lambda: _uncommitted(kafka_bootstrap, group, _topics(topic_prefix, ["readings"])) == 0,
                "offset commits",
            )
    finally:
        _reject_connections(admin_database_url, database, False)

    assert outages[0].cut_on_thread.startswith("sink-writer")
    assert audits[0].uncovered == []
    assert registry.get_sample_value("farmstream_sink_paused") == 0.0
    errors = registry.get_sample_value("farmstream_sink_errors_total", {"kind": "database_unavailable"})
    assert errors is not None and errors >= 1
    assert _count(sink_database_url, "readings") == 1200
    with psycopg.connect(sink_database_url) as connection:
        distinct = connection.execute("SELECT count(DISTINCT event_id) FROM readings").fetchone()
    assert distinct == (1200,)


def test_sigterm_mid_stream_commits_only_written(
    kafka_bootstrap: str, topic_prefix: str, sink_database_url: str
) -> None:
    farm = f"farm-{uuid.uuid4().hex[:8]}"
    placement = _produce_placed(kafka_bootstrap, topic_prefix, _spread_readings(farm, steps=2000))
    group = f"sink-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "FARMSTREAM_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FARMSTREAM_TOPIC_PREFIX": topic_prefix,
        "FARMSTREAM_DATABASE_URL": sink_database_url,
        "FARMSTREAM_SINK_GROUP_ID": group,
        "FARMSTREAM_SINK_BATCH_SIZE": "300",
        "FARMSTREAM_SINK_SESSION_TIMEOUT_MS": "6000",
        "FARMSTREAM_SINK_METRICS_PORT": "0",
    }
    command = [sys.executable, "-m", "farmstream.cli", "sink", "--topics", "readings"]
    topic = topic_name(READINGS, topic_prefix)

    first = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _count(sink_database_url, "readings") > 0, "the first written batches")
    finally:
        os.kill(first.pid, signal.SIGTERM)
        first.wait(timeout=60)
    stopped_at = _count(sink_database_url, "readings")
    committed = _committed_offsets(kafka_bootstrap, group, topic)

    second = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(
            lambda: _uncommitted(kafka_bootstrap, group, [topic]) == 0,
            "the restarted sink to commit every offset",
        )
    finally:
        os.kill(second.pid, signal.SIGTERM)
        second.wait(timeout=60)

    assert first.returncode == 0
    assert second.returncode == 0
    assert 0 < stopped_at < len(placement)
    assert committed != []
    assert _missing_before(sink_database_url, placement, committed) == []
    assert _count(sink_database_url, "readings") == len(placement)
    with psycopg.connect(sink_database_url) as connection:
        distinct = connection.execute("SELECT count(DISTINCT event_id) FROM readings").fetchone()
    assert distinct == (len(placement),)
