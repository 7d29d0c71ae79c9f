"""Integration tests against the running local stack: the real Kafka broker and PostgreSQL.

They produce and consume through the broker, write and read through PostgreSQL, and run the
``farmstream stack`` command itself. None of them stops the shared stack.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Message, Producer
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

from farmstream.stack.exceptions import TopicError
from farmstream.stack.topics import create_topics, delete_topics, list_topics
from schemas.events import Reading, controller_id_for, readings_key, readings_topic_adapter
from schemas.topics import ALL_TOPICS, READINGS, topic_name

pytestmark = pytest.mark.integration

FARMSTREAM = Path(sys.executable).with_name("farmstream")
ConsumeMessages = Callable[..., list[Message]]
START = datetime(2026, 4, 24, 12, 0, tzinfo=UTC)


def _reading(farm_id: str, house_number: int, minute: int) -> Reading:
    controller = controller_id_for(farm_id, house_number)
    observed_at = START + timedelta(minutes=minute)
    return Reading(
        event_id=Reading.make_id(controller, "temperature.average", "instant", observed_at),
        farm_id=farm_id,
        house_number=house_number,
        controller_id=controller,
        parameter="temperature.average",
        source_key="General.Average_Temperature",
        source_command="RNBL_GetCommandData/0",
        value=25.0 + minute / 10,
        unit="degC",
        observed_at=observed_at,
        fetched_at=observed_at + timedelta(seconds=5),
    )


def _run_farmstream(*arguments: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FARMSTREAM), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=dict(os.environ),
    )


def test_topics_created_from_specs(kafka_bootstrap: str, topic_prefix: str) -> None:
    partitions = list_topics(kafka_bootstrap, topic_prefix)
    assert partitions == {topic_name(spec, topic_prefix): spec.partitions for spec in ALL_TOPICS}

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    readings = ConfigResource(ConfigResource.Type.TOPIC, topic_name(READINGS, topic_prefix))
    config = admin.describe_configs([readings])[readings].result(timeout=30)
    assert config["retention.ms"].value == str(READINGS.retention_ms)
    assert config["cleanup.policy"].value == READINGS.cleanup_policy


def test_topic_creation_is_idempotent(kafka_bootstrap: str, topic_prefix: str) -> None:
    states = create_topics(kafka_bootstrap, topic_prefix)

    assert [state.name for state in states] == [topic_name(spec, topic_prefix) for spec in ALL_TOPICS]
    assert not any(state.created for state in states)


def test_partition_mismatch_raises(kafka_bootstrap: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    name = topic_name(READINGS, prefix)
    narrower = dataclasses.replace(READINGS, partitions=READINGS.partitions - 1)
    create_topics(kafka_bootstrap, prefix, specs=[narrower])
    try:
        with pytest.raises(TopicError, match=f"topic {name} has {narrower.partitions} partitions"):
            create_topics(kafka_bootstrap, prefix, specs=[READINGS])
    finally:
        delete_topics(kafka_bootstrap, [name])


def test_readings_round_trip_keeps_order(
    kafka_bootstrap: str, topic_prefix: str, consume_messages: ConsumeMessages
) -> None:
    topic = topic_name(READINGS, topic_prefix)
    sent = [
        _reading(farm, house, minute)
        for minute in range(10)
        for farm in ("farm-a", "farm-b")
        for house in (1, 2)
    ]
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for reading in sent:
        producer.produce(
            topic, key=readings_key(reading.farm_id, reading.house_number), value=reading.to_bytes()
        )
    assert producer.flush(30) == 0

    messages = consume_messages(topic, len(sent))

    received = [readings_topic_adapter.validate_json(message.value()) for message in messages]
    assert sorted(event.event_id for event in received) == sorted(reading.event_id for reading in sent)
    partitions_by_key: dict[bytes, set[int]] = defaultdict(set)
    minutes_by_key: dict[bytes, list[datetime]] = defaultdict(list)
    for message, event in zip(messages, received, strict=True):
        partitions_by_key[message.key()].add(message.partition())
        minutes_by_key[message.key()].append(event.observed_at)
    assert all(len(partitions) == 1 for partitions in partitions_by_key.values())
    assert all(times == sorted(times) for times in minutes_by_key.values())
    assert len(minutes_by_key) == 4


def test_postgres_write_then_read(database_url: str) -> None:
    with psycopg.connect(database_url) as connection:
        connection.execute(
            "CREATE TABLE probe (farm_id text, house_number int, value double precision,"
            " observed_at timestamptz, PRIMARY KEY (farm_id, house_number, observed_at))"
        )
        rows = [
            ("farm-a", 1, 25.5, START),
            ("farm-a", 2, 26.0, START),
            ("farm-a", 1, 25.7, START + timedelta(minutes=5)),
        ]
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO probe VALUES (%s, %s, %s, %s)", rows)
            # A replayed row is ignored, as the sinks do it.
            cursor.execute("INSERT INTO probe VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", rows[0])
        connection.commit()

    with psycopg.connect(database_url) as connection:
        stored = connection.execute(
            "SELECT farm_id, house_number, value, observed_at FROM probe ORDER BY observed_at, house_number"
        ).fetchall()
        database = connection.execute("SELECT current_database(), current_user").fetchone()

    assert stored == sorted(rows, key=lambda row: (row[3], row[1]))
    assert database is not None
    assert database[0] != "farmstream"
    assert database[1] == "farmstream"


def test_role_may_end_autovacuum(database_url: str) -> None:
    # DROP DATABASE ... WITH (FORCE) of a test database must end an autovacuum worker busy in it.
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')").fetchone()

    assert row == (True,)


def _component_pids(output: str) -> dict[str, str]:
    """Return the pid field of each component line of `farmstream stack` output."""
    fields = [line.split() for line in output.splitlines()]
    return {parts[0]: parts[2] for parts in fields if parts and parts[0] in {"postgres", "kafka"}}


def test_stack_up_twice_is_harmless() -> None:
    first = _run_farmstream("stack", "up")
    second = _run_farmstream("stack", "up")
    status = _run_farmstream("stack", "status")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("(already running)") == 2
    assert status.returncode == 0, status.stdout + status.stderr
    states = [line.split()[:2] for line in status.stdout.splitlines()]
    assert states == [["postgres", "up"], ["kafka", "up"]]
    assert _component_pids(first.stdout) == _component_pids(status.stdout)
    assert _component_pids(second.stdout) == _component_pids(status.stdout)
