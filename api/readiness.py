"""Dependency checks behind /readyz: Kafka metadata and a database round trip, each with a timeout."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import psycopg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from psycopg_pool import AsyncConnectionPool

from api.db import AsyncConnection

logger = logging.getLogger(__name__)


def _list_kafka_topics(bootstrap: str, limit_seconds: float) -> None:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "socket.timeout.ms": max(int(limit_seconds * 1000), 10),
        # librdkafka logs each refused connection; the failed check is logged once by the caller.
        "logger": logging.getLogger(f"{__name__}.librdkafka"),
    }
    AdminClient(config).list_topics(timeout=limit_seconds)


async def check_kafka(bootstrap: str, limit_seconds: float) -> str | None:
    """Return None when the broker returns metadata in time, else the error."""
    try:
        # The thread is abandoned if it overruns; librdkafka's own timeout ends it shortly after.
        with anyio.fail_after(limit_seconds + 1.0):
            await anyio.to_thread.run_sync(
                _list_kafka_topics, bootstrap, limit_seconds, abandon_on_cancel=True
            )
    except KafkaException as error:
        return str(error.args[0]) if error.args else "KafkaException"
    except TimeoutError:
        return f"metadata request timed out after {limit_seconds:g} s"
    return None


async def check_database(pool: AsyncConnectionPool[AsyncConnection], limit_seconds: float) -> str | None:
    """Return None when the database runs SELECT 1 in time, else the error."""
    try:
        with anyio.fail_after(limit_seconds):
            async with pool.connection(timeout=limit_seconds) as connection:
                await connection.execute("SELECT 1")
    except TimeoutError:
        return f"SELECT 1 timed out after {limit_seconds:g} s"
    except psycopg.Error as error:
        return f"{type(error).__name__}: {error}"
    return None
