"""Build a sink service from settings: the Kafka consumer and producer and the database writer."""

from __future__ import annotations

from typing import Any

import psycopg
from confluent_kafka import Consumer, Producer

from sinks.batch import DatabaseWriter
from sinks.config import SinkSettings
from sinks.metrics import SinkMetrics
from sinks.records import TopicKind, TopicRouter
from sinks.service import SinkService


def connect(settings: SinkSettings) -> psycopg.Connection[Any]:
    """Open a sink connection with the statement timeout that turns a stuck database into a retry."""
    conn = psycopg.connect(settings.database_url, connect_timeout=10)
    timeout_ms = int(settings.sink_statement_timeout_seconds * 1000)
    conn.execute(f"SET statement_timeout = {timeout_ms}".encode())
    conn.commit()
    return conn


def build_sink(settings: SinkSettings, kinds: tuple[TopicKind, ...], metrics: SinkMetrics) -> SinkService:
    """Return a sink service for the given topics; nothing connects until it runs."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": settings.sink_group_id,
            "client.id": "farmstream-sink",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": settings.sink_session_timeout_ms,
            "heartbeat.interval.ms": max(settings.sink_session_timeout_ms // 4, 500),
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "client.id": "farmstream-sink-dead-letters",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        }
    )
    writer = DatabaseWriter(lambda: connect(settings), settings.sink_write_mode)
    router = TopicRouter(settings.topic_prefix, kinds)
    return SinkService(settings, router, consumer, producer, writer, metrics)
