"""Unit tests of the sink service loop with a fake consumer, producer and writer.

The fakes record the calls the service makes. So the tests check the order that at-least-once
delivery depends on: write, then dead letters, then offset commit. They also check that the
service pauses consumption while the database fails.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry

from sinks.batch import BatchOutcome
from sinks.config import SinkSettings
from sinks.exceptions import DatabaseUnavailable
from sinks.metrics import SinkMetrics
from sinks.records import DecodedRecord, TopicRouter
from sinks.service import SinkService
from tests.sinks.sink_events import alert, reading

PREFIX = "unit."


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        self._topic, self._partition, self._offset, self._value = topic, partition, offset, value

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"farm-a/1"

    def value(self) -> bytes | None:
        return self._value


class FakeConsumer:
    def __init__(self, messages: list[FakeMessage], log: list[str]) -> None:
        self.messages = messages
        self.log = log
        self.assigned = [TopicPartition(f"{PREFIX}readings", 0), TopicPartition(f"{PREFIX}alerts", 1)]
        self.committed: list[tuple[str, int, int]] = []
        self.on_poll: Callable[[], None] | None = None
        self.on_consume: Callable[[], None] | None = None
        self.closed = False

    def subscribe(
        self,
        topics: list[str],
        on_assign: Callable[[Any, list[TopicPartition]], None] | None = None,
        on_revoke: Callable[[Any, list[TopicPartition]], None] | None = None,
        on_lost: Callable[[Any, list[TopicPartition]], None] | None = None,
    ) -> None:
        self.topics = topics

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[FakeMessage]:
        taken, self.messages = self.messages[:num_messages], self.messages[num_messages:]
        if self.on_consume is not None:
            self.on_consume()
        return taken

    def poll(self, timeout: float = -1) -> None:
        self.log.append("poll")
        if self.on_poll is not None:
            self.on_poll()
        return None

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.log.append("commit")
        self.committed.extend((item.topic, item.partition, item.offset) for item in offsets)

    def assignment(self) -> list[TopicPartition]:
        return list(self.assigned)

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = list(partitions)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.log.append("pause")

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.log.append("resume")

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(item.topic, item.partition, 5) for item in partitions]

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = 1, cached: bool = False
    ) -> tuple[int, int]:
        return (0, 12)

    def close(self) -> None:
        self.closed = True


class FakeProducer:
    def __init__(self, log: list[str], fail_times: int = 0) -> None:
        self.log = log
        self.fail_times = fail_times
        self.pending: list[tuple[str, bytes | None, Callable[[Any, Any], None] | None]] = []
        self.delivered: list[tuple[str, bytes | None]] = []

    def produce(
        self,
        topic: str,
        *,
        value: bytes | None = None,
        key: bytes | None = None,
        on_delivery: Callable[[Any, Any], None] | None = None,
    ) -> None:
        self.pending.append((topic, value, on_delivery))

    def flush(self, timeout: float = -1) -> int:
        self.log.append("flush")
        failing = self.fail_times > 0
        self.fail_times -= 1
        for topic, value, callback in self.pending:
            if callback is not None:
                callback("broker down" if failing else None, None)
            if not failing:
                self.delivered.append((topic, value))
        self.pending = []
        return 0


class FakeWriter:
    def __init__(self, log: list[str], failures: int = 0) -> None:
        self.log = log
        self.failures = failures
        self.written: list[DecodedRecord] = []

    def write_batch(self, records: Sequence[DecodedRecord]) -> BatchOutcome:
        if self.failures > 0:
            self.failures -= 1
            self.log.append("write-failed")
            raise DatabaseUnavailable("connection refused")
        self.log.append("write")
        self.written.extend(records)
        return BatchOutcome(rows=Counter({"readings": len(records)}))

    def drop_old_readings(self, retain_days: int) -> int:
        return 0

    def close(self) -> None:
        pass


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def _service(
    consumer: FakeConsumer, producer: FakeProducer, writer: FakeWriter, registry: CollectorRegistry
) -> SinkService:
    settings = SinkSettings(
        topic_prefix=PREFIX, sink_batch_size=100, sink_retry_initial_seconds=0.05, sink_retry_max_seconds=0.1
    )
    router = TopicRouter(PREFIX, ("readings", "alerts", "dead-letter"))
    return SinkService(settings, router, consumer, producer, writer, SinkMetrics(registry), clock=FakeClock())


def _readings(count: int, partition: int = 0, first_offset: int = 0) -> list[FakeMessage]:
    return [
        FakeMessage(
            f"{PREFIX}readings", partition, first_offset + step, reading("farm-a", 1, step).to_bytes()
        )
        for step in range(count)
    ]


def test_commit_follows_write() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(3), log)
    writer = FakeWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())

    service.process_batch(service.collect_batch())

    assert log == ["write", "commit"]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 3)]
    assert len(writer.written) == 3


def test_offsets_committed_per_partition() -> None:
    log: list[str] = []
    messages = _readings(2, partition=0, first_offset=10) + _readings(3, partition=4, first_offset=40)
    messages.append(FakeMessage(f"{PREFIX}alerts", 1, 7, alert("farm-a", 1, 0, "open").to_bytes()))
    consumer = FakeConsumer(messages, log)
    service = _service(consumer, FakeProducer(log), FakeWriter(log), CollectorRegistry())

    service.process_batch(service.collect_batch())

    assert sorted(consumer.committed) == [
        (f"{PREFIX}alerts", 1, 8),
        (f"{PREFIX}readings", 0, 12),
        (f"{PREFIX}readings", 4, 43),
    ]


def test_unavailable_database_pauses_then_resumes() -> None:
    log: list[str] = []
    registry = CollectorRegistry()
    consumer = FakeConsumer(_readings(4), log)
    writer = FakeWriter(log, failures=2)
    service = _service(consumer, FakeProducer(log), writer, registry)
    paused_during_wait: list[float | None] = []
    consumer.on_poll = lambda: paused_during_wait.append(registry.get_sample_value("farmstream_sink_paused"))

    service.process_batch(service.collect_batch())

    assert log[0] == "write-failed"
    assert log[1] == "pause"
    assert log.count("pause") == 1
    assert log.index("resume") > log.index("write")
    assert log[-1] == "commit"
    assert set(paused_during_wait) == {1.0}
    assert [record.source.offset for record in writer.written] == [0, 1, 2, 3]
    assert registry.get_sample_value("farmstream_sink_paused") == 0.0
    assert registry.get_sample_value("farmstream_sink_errors_total", {"kind": "database_unavailable"}) == 2.0


def test_bad_record_dead_lettered_rest_written() -> None:
    log: list[str] = []
    registry = CollectorRegistry()
    messages = _readings(2)
    messages.insert(1, FakeMessage(f"{PREFIX}readings", 0, 99, b"{broken"))
    consumer = FakeConsumer(messages, log)
    producer = FakeProducer(log)
    writer = FakeWriter(log)
    service = _service(consumer, producer, writer, registry)

    service.process_batch(service.collect_batch())

    assert log == ["write", "flush", "commit"]
    assert len(writer.written) == 2
    assert len(producer.delivered) == 1
    topic, value = producer.delivered[0]
    letter = json.loads(value or b"")
    assert topic == f"{PREFIX}dead-letter"
    assert letter["raw_payload"] == "{broken"
    assert letter["error_type"] == "InvalidJson"
    assert letter["source_offset"] == 99
    assert consumer.committed == [(f"{PREFIX}readings", 0, 100)]
    assert (
        registry.get_sample_value("farmstream_sink_dead_letters_total", {"error_type": "InvalidJson"}) == 1.0
    )


def test_bad_dead_letter_stored_not_republished() -> None:
    log: list[str] = []
    consumer = FakeConsumer([FakeMessage(f"{PREFIX}dead-letter", 2, 5, b"\xffnot a dead letter")], log)
    producer = FakeProducer(log)
    writer = FakeWriter(log)
    service = _service(consumer, producer, writer, CollectorRegistry())

    service.process_batch(service.collect_batch())

    assert producer.delivered == []
    stored = [record.event for record in writer.written]
    assert len(stored) == 1
    assert stored[0].kind == "dead_letter"
    assert stored[0].raw_encoding == "base64"  # type: ignore[union-attr]
    assert consumer.committed == [(f"{PREFIX}dead-letter", 2, 6)]


def test_failed_dead_letter_publish_blocks_commit() -> None:
    log: list[str] = []
    consumer = FakeConsumer([FakeMessage(f"{PREFIX}readings", 0, 3, b"[]")], log)
    producer = FakeProducer(log, fail_times=1)
    service = _service(consumer, producer, FakeWriter(log), CollectorRegistry())

    service.process_batch(service.collect_batch())

    assert log.index("flush") < log.index("pause") < log.index("commit")
    assert log.count("flush") == 2
    assert len(producer.delivered) == 1
    assert consumer.committed == [(f"{PREFIX}readings", 0, 4)]


def test_revoked_partition_dropped_from_retry() -> None:
    log: list[str] = []
    messages = _readings(2, partition=0) + _readings(2, partition=3, first_offset=20)
    consumer = FakeConsumer(messages, log)
    writer = FakeWriter(log, failures=1)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())

    def revoke_partition_three() -> None:
        # A rebalance during the wait: the consumer calls on_revoke from inside poll().
        consumer.on_poll = None
        service._on_revoke(consumer, [TopicPartition(f"{PREFIX}readings", 3)])

    consumer.on_poll = revoke_partition_three

    service.process_batch(service.collect_batch())

    assert [(r.source.partition, r.source.offset) for r in writer.written] == [(0, 0), (0, 1)]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 2)]


def test_partition_revoked_while_collecting() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(2, partition=0) + _readings(2, partition=3, first_offset=20), log)
    writer = FakeWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())

    def revoke_partition_three() -> None:
        consumer.on_consume = None
        service._on_revoke(consumer, [TopicPartition(f"{PREFIX}readings", 3)])

    consumer.on_consume = revoke_partition_three

    service.process_batch(service.collect_batch())

    assert [(r.source.partition, r.source.offset) for r in writer.written] == [(0, 0), (0, 1)]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 2)]


def test_lag_gauge_from_watermarks() -> None:
    log: list[str] = []
    registry = CollectorRegistry()
    consumer = FakeConsumer([], log)
    service = _service(consumer, FakeProducer(log), FakeWriter(log), registry)

    service._update_lag()

    assert (
        registry.get_sample_value(
            "farmstream_sink_consumer_lag", {"topic": f"{PREFIX}readings", "partition": "0"}
        )
        == 7.0
    )
