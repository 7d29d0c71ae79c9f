"""Integration tests of the agents' end-offset reader against the stack's real Kafka broker."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from schemas.topics import ALERTS, PREDICTIONS, topic_name
from stream_processors.kafka_io import EndOffsetReader, end_offsets

pytestmark = pytest.mark.integration


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for number in range(count):
        producer.produce(topic, key=b"farm-1/1", value=str(number).encode())
    assert producer.flush(30) == 0


def test_reader_follows_new_messages(kafka_bootstrap: str, topic_prefix: str) -> None:
    alerts, predictions = topic_name(ALERTS, topic_prefix), topic_name(PREDICTIONS, topic_prefix)
    missing = f"{topic_prefix}no-such-topic"
    reader = EndOffsetReader(kafka_bootstrap)
    try:
        _produce(kafka_bootstrap, alerts, 3)
        first = reader.end_offsets([alerts, predictions, missing])
        assert sum(first[alerts].values()) == 3
        assert sum(first[predictions].values()) == 0
        assert missing not in first
        _produce(kafka_bootstrap, alerts, 2)
        second = reader.end_offsets([alerts, predictions])
        assert sum(second[alerts].values()) == 5
        assert second == end_offsets(kafka_bootstrap, [alerts, predictions])
        reader.close()
        assert reader.end_offsets([alerts]) == {alerts: second[alerts]}  # connects again
    finally:
        reader.close()
