"""Create, list and delete the pipeline's Kafka topics from the specs in ``schemas.topics``.

Creation is idempotent. A missing topic is created with its spec's partitions, retention and
cleanup policy. An existing topic gets the spec's retention and cleanup policy applied again. A
partition count that differs from the spec raises TopicError, because the key-to-partition mapping,
and so the order of one controller's events, depends on it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException

# confluent_kafka.admin re-exports these without __all__, which mypy's strict mode does not see.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from farmstream.stack.exceptions import TopicError
from schemas.topics import ALL_TOPICS, TopicSpec, topic_name

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 30.0
LIST_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class TopicState:
    """A topic on the broker and whether this call created it."""

    name: str
    partitions: int
    created: bool


def admin_client(bootstrap: str) -> AdminClient:
    """Return an AdminClient for the bootstrap servers.

    librdkafka logs every failed connection attempt, so only its critical messages are let through;
    the failed request raises with the reason instead.
    """
    return AdminClient(
        {"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 5000, "log_level": 2}
    )


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """Return the broker-side configuration of a topic spec."""
    return {"retention.ms": str(spec.retention_ms), "cleanup.policy": spec.cleanup_policy}


def _require_reachable(bootstrap: str) -> None:
    """Raise TopicError at once when no bootstrap server accepts a TCP connection.

    Without this check a metadata request to an unreachable broker waits for its whole timeout.
    """
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if not port.isdigit():
            raise TopicError(
                f"invalid bootstrap server {server!r}: use host:port, for example 127.0.0.1:19092"
            )
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=3.0):
                return
        except OSError:
            continue
    raise TopicError(
        f"no Kafka broker accepts connections on {bootstrap}: check that the broker runs "
        f"(`farmstream stack status`) and that FARMSTREAM_KAFKA_BOOTSTRAP points at it"
    )


def _existing_partitions(admin: AdminClient, bootstrap: str) -> dict[str, int]:
    _require_reachable(bootstrap)
    try:
        metadata = admin.list_topics(timeout=LIST_TIMEOUT_S)
    except KafkaException as error:
        raise TopicError(
            f"failed to list topics on {bootstrap}: {error.args[0].str()}; check that the broker runs "
            f"(`farmstream stack status`) and that FARMSTREAM_KAFKA_BOOTSTRAP points at it"
        ) from error
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def _wait_until_listed(admin: AdminClient, bootstrap: str, names: Sequence[str]) -> dict[str, int]:
    """Return the partition counts once every named topic shows up in the broker's metadata.

    A topic that was just created can be missing from the metadata for a moment.
    """
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    while True:
        existing = _existing_partitions(admin, bootstrap)
        missing = [name for name in names if name not in existing]
        if not missing:
            return existing
        if time.monotonic() > deadline:
            raise TopicError(
                f"topics {', '.join(missing)} are missing from the metadata of {bootstrap} "
                f"{REQUEST_TIMEOUT_S:.0f} s after their creation; see the broker log"
            )
        time.sleep(0.2)


def _apply_config(admin: AdminClient, name: str, spec: TopicSpec) -> None:
    entries = [
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        for key, value in topic_config(spec).items()
    ]
    resource = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=entries)
    future = admin.incremental_alter_configs([resource])[resource]
    try:
        future.result(timeout=REQUEST_TIMEOUT_S)
    except KafkaException as error:
        raise TopicError(f"failed to set the configuration of topic {name}: {error}") from error


def create_topics(
    bootstrap: str,
    prefix: str,
    specs: Sequence[TopicSpec] = ALL_TOPICS,
    replication_factor: int = 1,
) -> list[TopicState]:
    """Create every missing topic of the specs under the prefix and check the existing ones."""
    admin = admin_client(bootstrap)
    existing = _existing_partitions(admin, bootstrap)
    missing = [spec for spec in specs if topic_name(spec, prefix) not in existing]
    created: set[str] = set()
    if missing:
        requests = [
            NewTopic(
                topic_name(spec, prefix),
                num_partitions=spec.partitions,
                replication_factor=replication_factor,
                config=topic_config(spec),
            )
            for spec in missing
        ]
        for name, future in admin.create_topics(requests, request_timeout=REQUEST_TIMEOUT_S).items():
            try:
                future.result()
            except KafkaException as error:
                # Another process may have created it between the listing and this request.
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise TopicError(f"failed to create topic {name}: {error}") from error
            else:
                created.add(name)
                logger.info("created topic", extra={"topic": name})
        existing = _wait_until_listed(admin, bootstrap, [topic_name(spec, prefix) for spec in specs])

    states = []
    for spec in specs:
        name = topic_name(spec, prefix)
        partitions = existing[name]
        if partitions != spec.partitions:
            raise TopicError(
                f"topic {name} has {partitions} partitions but its spec has {spec.partitions}; "
                f"delete the topic (or use another FARMSTREAM_TOPIC_PREFIX) and create it again"
            )
        if name not in created:
            _apply_config(admin, name, spec)
        states.append(TopicState(name, partitions, name in created))
    return states


def list_topics(bootstrap: str, prefix: str) -> dict[str, int]:
    """Return the partition count of every topic whose name starts with the prefix."""
    existing = _existing_partitions(admin_client(bootstrap), bootstrap)
    return {name: count for name, count in sorted(existing.items()) if name.startswith(prefix)}


def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete the named topics; a topic that does not exist is ignored."""
    requests = list(names)
    if not requests:
        return
    admin = admin_client(bootstrap)
    for name, future in admin.delete_topics(requests, request_timeout=REQUEST_TIMEOUT_S).items():
        try:
            future.result()
        except KafkaException as error:
            if error.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise TopicError(f"failed to delete topic {name}: {error}") from error
