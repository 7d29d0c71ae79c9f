"""Blocking reads of topic ranges and end offsets with confluent-kafka, run off the event loop.

The agents use these outside Faust's consumer group: to read the checkpoint topic and the tail of
the output topics when a partition is restored, and to record output end offsets in a checkpoint.
"""

from __future__ import annotations

import threading
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition

TIMEOUT_SECONDS = 10.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def _consumer(bootstrap: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"farmstream-agents-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "fetch.message.max.bytes": MAX_MESSAGE_BYTES,
            "receive.message.max.bytes": 4 * MAX_MESSAGE_BYTES,
        }
    )


def end_offsets(bootstrap: str, topics: list[str]) -> dict[str, dict[int, int]]:
    """Return the end (high watermark) offset of every partition of the topics that exist."""
    consumer = _consumer(bootstrap)
    try:
        return _end_offsets(consumer, topics)
    finally:
        consumer.close()


def _end_offsets(consumer: Consumer, topics: list[str]) -> dict[str, dict[int, int]]:
    metadata = consumer.list_topics(timeout=TIMEOUT_SECONDS)
    offsets: dict[str, dict[int, int]] = {}
    for topic in topics:
        if topic not in metadata.topics:
            continue
        for partition in metadata.topics[topic].partitions:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=TIMEOUT_SECONDS
            )
            offsets.setdefault(topic, {})[partition] = high
    return offsets


class EndOffsetReader:
    """End offsets through one long-lived consumer, for a caller that asks at every checkpoint.

    Connecting a consumer costs about 60 ms here, against a few for the queries themselves. Calls
    from several threads take turns, and after a failure the next call connects afresh.
    """

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()

    def end_offsets(self, topics: list[str]) -> dict[str, dict[int, int]]:
        """Return the end offset of every partition of the topics that exist."""
        with self._lock:
            if self._consumer is None:
                self._consumer = _consumer(self.bootstrap)
            try:
                return _end_offsets(self._consumer, topics)
            except KafkaException:
                self._close()
                raise

    def close(self) -> None:
        """Close the consumer. A later call connects again."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()


def read_range(bootstrap: str, starts: dict[tuple[str, int], int]) -> list[tuple[bytes, bytes]]:
    """Read (key, value) of every message from the start offsets to the current ends, in order."""
    if not starts:
        return []
    consumer = _consumer(bootstrap)
    records: list[tuple[bytes, bytes]] = []
    try:
        ends: dict[tuple[str, int], int] = {}
        for (topic, partition), start in starts.items():
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=TIMEOUT_SECONDS
            )
            if high > max(start, low):
                ends[(topic, partition)] = high
        if not ends:
            return []
        consumer.assign([TopicPartition(t, p, max(starts[(t, p)], 0)) for t, p in ends])
        pending = set(ends)
        while pending:
            message = consumer.poll(TIMEOUT_SECONDS)
            if message is None:
                raise KafkaException(f"timed out reading {sorted(pending)} to offsets {ends}")
            if message.error() is not None:
                continue
            tp = (str(message.topic()), int(message.partition() or 0))
            key, value = message.key(), message.value()
            if key is not None and value is not None:
                records.append((key, value))
            if int(message.offset() or 0) + 1 >= ends.get(tp, 0):
                pending.discard(tp)
        return records
    finally:
        consumer.close()
