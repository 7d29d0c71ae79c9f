"""Shared fixtures: the real Kafka broker and PostgreSQL of ``farmstream stack``.

The stack must be up (``.venv/bin/farmstream stack up``); a fixture that needs it fails, never
skips, when it is down. Each test gets its own topic prefix with the pipeline's real topics, and
each test session gets its own database, so tests run beside each other and beside the demo.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from confluent_kafka import Consumer, Message
from psycopg import sql

from farmstream.config import StackSettings
from farmstream.stack.kafka import list_topics_succeeds
from farmstream.stack.processes import port_is_open
from farmstream.stack.topics import create_topics, delete_topics
from schemas.topics import ALL_TOPICS, topic_name

# One PGlite (TimescaleDB) server for the whole session, shared by every test folder that uses it.
pytest_plugins = ["tests.pglite_fixture"]

STACK_HINT = "start it with `.venv/bin/farmstream stack up` (and check it with `farmstream stack status`)"

ConsumeMessages = Callable[..., list[Message]]


def _default_database_url(settings: StackSettings) -> str:
    return f"postgresql://farmstream:farmstream@127.0.0.1:{settings.postgres_port}/farmstream"


@pytest.fixture(scope="session")
def stack_settings() -> StackSettings:
    """Return the local stack's settings (ports and folders) from the environment."""
    return StackSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(stack_settings: StackSettings) -> str:
    """Return the bootstrap address of the stack's broker, failing the test when it does not respond."""
    bootstrap = os.environ.get("FARMSTREAM_KAFKA_BOOTSTRAP", f"127.0.0.1:{stack_settings.kafka_port}")
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    reachable = port.isdigit() and port_is_open(int(port), host)
    if not reachable or not list_topics_succeeds(bootstrap, timeout=15.0):
        pytest.fail(f"the Kafka broker at {bootstrap} does not respond: {STACK_HINT}", pytrace=False)
    return bootstrap


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> Iterator[str]:
    """Return a prefix unique to the test under which every pipeline topic exists with its real spec."""
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    create_topics(kafka_bootstrap, prefix)
    yield prefix
    try:
        delete_topics(kafka_bootstrap, [topic_name(spec, prefix) for spec in ALL_TOPICS])
    except Exception as error:  # cleanup is best-effort; a leftover topic does not fail the test
        print(f"could not delete the topics under {prefix}: {error}")


@pytest.fixture(scope="session")
def admin_database_url(stack_settings: StackSettings) -> str:
    """Return the URL of the farmstream role's own database, failing the test when PostgreSQL is down."""
    url = os.environ.get("FARMSTREAM_DATABASE_URL", _default_database_url(stack_settings))
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as error:
        host = urlsplit(url).hostname
        port = urlsplit(url).port
        pytest.fail(
            f"PostgreSQL at {host}:{port} does not accept connections ({error}): {STACK_HINT}", pytrace=False
        )
    return url


@pytest.fixture(scope="session")
def database_url(admin_database_url: str) -> Iterator[str]:
    """Return the URL of a database created for this test session and dropped at its end."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(admin_database_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def consume(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Message]:
    """Read ``count`` messages of a topic from its beginning with a fresh consumer group.

    Fails the test with the number of messages received when fewer arrive within the timeout.
    Messages that carry an error (a partition end, for example) are not counted.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received: list[Message] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            received.append(message)
    finally:
        consumer.close()
    if len(received) < count:
        pytest.fail(f"received {len(received)} of {count} messages from {topic} within {timeout} s")
    return received


@pytest.fixture
def consume_messages(kafka_bootstrap: str) -> ConsumeMessages:
    """Return ``consume(topic, count, timeout=30.0)`` bound to the stack's broker."""

    def consume_from_stack(topic: str, count: int, timeout: float = 30.0) -> list[Message]:
        return consume(kafka_bootstrap, topic, count, timeout)

    return consume_from_stack
