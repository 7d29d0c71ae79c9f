"""Tests of the start-up topic check that every Kafka service command runs.

The first test talks to the real broker of the local stack; the second needs no broker.
"""

from __future__ import annotations

import uuid

import pytest

from farmstream.cli import CommandError
from farmstream.stack.topics import delete_topics, list_topics
from farmstream.startup import ensure_pipeline_topics
from schemas.topics import ALL_TOPICS, topic_name


@pytest.mark.integration
def test_startup_creates_topics_with_spec_partitions(kafka_bootstrap: str) -> None:
    prefix = f"test-startup-{uuid.uuid4().hex[:8]}."
    try:
        ensure_pipeline_topics(kafka_bootstrap, prefix)
        ensure_pipeline_topics(kafka_bootstrap, prefix)

        partitions = list_topics(kafka_bootstrap, prefix)
        for spec in ALL_TOPICS:
            assert partitions[topic_name(spec, prefix)] == spec.partitions, spec.suffix
    finally:
        delete_topics(kafka_bootstrap, [topic_name(spec, prefix) for spec in ALL_TOPICS])


def test_startup_without_broker_is_command_error() -> None:
    # Port 9 on loopback has no listener, so the check fails fast.
    with pytest.raises(CommandError, match=r"127\.0\.0\.1:9"):
        ensure_pipeline_topics("127.0.0.1:9", "test-nobroker.")
