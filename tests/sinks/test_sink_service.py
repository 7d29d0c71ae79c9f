"""Unit tests of the sink service loop with a fake consumer, producer and writer.

The fakes record the calls the service makes. So the tests check the order that at-least-once
delivery depends on: write, then dead letters, then offset commit. They also check that the
service pauses consumption while the database fails, and that the next batch is consumed while
one batch is written on the writer thread without committing anything out of order.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry

from sinks.batch import BatchOutcome
from sinks.config import SinkSettings
from sinks.exceptions import DatabaseUnavailable
from sinks.metrics import SinkMetrics
from sinks.records import DecodedRecord, TopicRouter
from sinks.service import Batch, SinkService
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
        self.on_commit: Callable[[list[TopicPartition]], None] | None = None
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
        # Rebalance callbacks run before the call takes its messages, as in librdkafka, which
        # purges records fetched before a rebalance from the call's result.
        if self.on_consume is not None:
            self.on_consume()
        taken, self.messages = self.messages[:num_messages], self.messages[num_messages:]
        return taken

    def poll(self, timeout: float = -1) -> None:
        self.log.append("poll")
        if self.on_poll is not None:
            self.on_poll()
        return None

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.log.append("commit")
        if self.on_commit is not None:
            self.on_commit(offsets)
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


class GatedWriter(FakeWriter):
    """A fake writer whose first write blocks until the test opens ``gate``."""

    def __init__(self, log: list[str], failures: int = 0) -> None:
        super().__init__(log, failures)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batches: list[list[int]] = []

    def write_batch(self, records: Sequence[DecodedRecord]) -> BatchOutcome:
        self.entered.set()
        if not self.gate.wait(timeout=30):
            raise AssertionError("the test never let the first write finish")
        self.batches.append([record.source.offset for record in records])
        return super().write_batch(records)

    def close(self) -> None:
        self.log.append("writer-close")


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

    service.collect_batch()
    service.process_batch()

    assert log == ["write", "commit"]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 3)]
    assert len(writer.written) == 3


def test_offsets_committed_per_partition() -> None:
    log: list[str] = []
    messages = _readings(2, partition=0, first_offset=10) + _readings(3, partition=4, first_offset=40)
    messages.append(FakeMessage(f"{PREFIX}alerts", 1, 7, alert("farm-a", 1, 0, "open").to_bytes()))
    consumer = FakeConsumer(messages, log)
    service = _service(consumer, FakeProducer(log), FakeWriter(log), CollectorRegistry())

    service.collect_batch()
    service.process_batch()

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

    service.collect_batch()
    service.process_batch()

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

    service.collect_batch()
    service.process_batch()

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

    service.collect_batch()
    service.process_batch()

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

    service.collect_batch()
    service.process_batch()

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

    service.collect_batch()
    service.process_batch()

    assert [(r.source.partition, r.source.offset) for r in writer.written] == [(0, 0), (0, 1)]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 2)]


def test_partition_revoked_while_collecting() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(2, partition=0) + _readings(2, partition=3, first_offset=20), log)
    writer = FakeWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())
    calls = 0

    def revoke_partition_three_on_second_call() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            consumer.on_consume = None
            service._on_revoke(consumer, [TopicPartition(f"{PREFIX}readings", 3)])

    consumer.on_consume = revoke_partition_three_on_second_call

    service.collect_batch()
    service.process_batch()

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


def _run_in_thread(
    service: SinkService, stop: threading.Event
) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            service.run(stop)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run, name="sink-under-test", daemon=True)
    thread.start()
    return thread, failures


def _uncovered_commits(
    consumer: FakeConsumer, messages: Sequence[FakeMessage], writer: FakeWriter
) -> list[str]:
    """Return the commits that cover a record the writer had not written at the time of the commit."""
    problems: list[str] = []

    def check(offsets: list[TopicPartition]) -> None:
        written = {(r.source.topic, r.source.partition, r.source.offset) for r in writer.written}
        for item in offsets:
            for message in messages:
                coordinates = (message.topic(), message.partition(), message.offset())
                same_partition = coordinates[:2] == (item.topic, item.partition)
                if same_partition and coordinates[2] < item.offset and coordinates not in written:
                    problems.append(
                        f"commit {item.topic}[{item.partition}]@{item.offset} before {coordinates}"
                    )

    consumer.on_commit = check
    return problems


def test_next_batch_decoded_during_write() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(3), log)
    writer = GatedWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())

    service.collect_batch()
    service.start_write()
    assert writer.entered.wait(timeout=10)
    consumer.messages = [*_readings(2, first_offset=3), FakeMessage(f"{PREFIX}readings", 0, 5, b"{broken")]
    next_batch = service.collect_batch()

    assert [record.source.offset for record in next_batch.decoded] == [3, 4]
    assert [record.error_type for record in next_batch.rejected] == ["InvalidJson"]
    assert consumer.committed == []
    assert log == []

    writer.gate.set()
    service.finish_write()
    assert consumer.committed == [(f"{PREFIX}readings", 0, 3)]

    service.process_batch()
    assert writer.batches == [[0, 1, 2], [3, 4]]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 3), (f"{PREFIX}readings", 0, 6)]
    assert log == ["write", "commit", "write", "flush", "commit"]


def test_start_write_rejects_second_batch() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(2), log)
    writer = GatedWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())
    service.collect_batch()
    service.start_write()

    try:
        with pytest.raises(RuntimeError, match="call finish_write"):
            service.start_write()
    finally:
        writer.gate.set()
        service.finish_write()
    assert consumer.committed == [(f"{PREFIX}readings", 0, 2)]


def test_run_commits_batches_in_order() -> None:
    log: list[str] = []
    messages = [
        message
        for step in range(0, 250, 10)
        for message in _readings(10, partition=(step // 10) % 2 * 3, first_offset=step)
    ]
    consumer = FakeConsumer(list(messages), log)
    writer = GatedWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())
    problems = _uncovered_commits(consumer, messages, writer)
    stop = threading.Event()

    consumed_during_write: list[bool] = []

    def release_first_write_from_next_consume() -> None:
        if service._in_flight is not None and not writer.gate.is_set():
            consumed_during_write.append(writer.entered.wait(timeout=10) and not writer.batches)
            writer.gate.set()
        if not consumer.messages:
            stop.set()

    consumer.on_consume = release_first_write_from_next_consume
    thread, failures = _run_in_thread(service, stop)
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert failures == []
    assert consumed_during_write == [True]
    assert problems == []
    assert [record.source.offset for record in writer.written] == [m.offset() for m in messages]
    assert [len(batch) for batch in writer.batches] == [100, 100, 50]
    # Each partition's commits only move forward and end after its last record.
    for partition, last in ((0, 250), (3, 240)):
        offsets = [offset for _topic, number, offset in consumer.committed if number == partition]
        assert offsets == sorted(offsets)
        assert offsets[-1] == last
    assert log[-1] == "writer-close"
    assert consumer.closed


def test_outage_during_write_loses_nothing() -> None:
    log: list[str] = []
    registry = CollectorRegistry()
    messages = _readings(150)
    consumer = FakeConsumer(list(messages), log)
    writer = FakeWriter(log, failures=2)
    service = _service(consumer, FakeProducer(log), writer, registry)
    problems = _uncovered_commits(consumer, messages, writer)
    stop = threading.Event()

    def stop_once_all_committed() -> None:
        if (f"{PREFIX}readings", 0, 150) in consumer.committed:
            stop.set()

    consumer.on_consume = stop_once_all_committed
    thread, failures = _run_in_thread(service, stop)
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert failures == []
    assert problems == []
    assert log[:2] == ["write-failed", "pause"]
    assert log.count("write-failed") == 2
    assert log.index("write") < log.index("resume") < log.index("commit")
    assert [record.source.offset for record in writer.written] == list(range(150))
    assert consumer.committed[-1] == (f"{PREFIX}readings", 0, 150)
    assert registry.get_sample_value("farmstream_sink_paused") == 0.0
    assert registry.get_sample_value("farmstream_sink_errors_total", {"kind": "database_unavailable"}) == 2.0


def test_stop_waits_for_write_in_flight() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(120), log)
    writer = GatedWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())
    stop = threading.Event()

    def stop_once_everything_consumed() -> None:
        if writer.entered.is_set() and not consumer.messages:
            stop.set()

    consumer.on_consume = stop_once_everything_consumed
    thread, failures = _run_in_thread(service, stop)
    assert stop.wait(timeout=10)
    stopped_during_write = not writer.batches
    writer.gate.set()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert failures == []
    assert stopped_during_write
    # The batch in flight and the one consumed meanwhile are both committed before closing.
    assert writer.batches == [list(range(100)), list(range(100, 120))]
    assert consumer.committed == [(f"{PREFIX}readings", 0, 100), (f"{PREFIX}readings", 0, 120)]
    assert log == ["write", "commit", "write", "commit", "writer-close"]
    assert consumer.closed


def test_stop_during_outage_commits_nothing() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(30), log)
    writer = FakeWriter(log, failures=1000)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())
    stop = threading.Event()
    consumer.on_poll = stop.set

    thread, failures = _run_in_thread(service, stop)
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert failures == []
    assert "write-failed" in log
    assert writer.written == []
    assert consumer.committed == []
    assert consumer.closed


def test_revoked_during_write_not_committed() -> None:
    log: list[str] = []
    first = _readings(2, partition=0) + _readings(2, partition=3, first_offset=20)
    first.append(FakeMessage(f"{PREFIX}readings", 3, 22, b"{broken"))
    consumer = FakeConsumer(first, log)
    producer = FakeProducer(log)
    writer = GatedWriter(log)
    service = _service(consumer, producer, writer, CollectorRegistry())
    service.collect_batch()
    service.start_write()
    assert writer.entered.wait(timeout=10)
    consumer.messages = _readings(1, partition=0, first_offset=2) + _readings(1, partition=3, first_offset=23)
    calls = 0

    def revoke_partition_three_on_second_call() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            service._on_revoke(consumer, [TopicPartition(f"{PREFIX}readings", 3)])

    consumer.on_consume = revoke_partition_three_on_second_call
    next_batch: Batch = service.collect_batch()
    writer.gate.set()
    service.finish_write()
    service.process_batch()

    assert [(record.partition, record.offset) for record in next_batch.records] == [(0, 2)]
    # Written before the revocation was seen, which is harmless, but neither committed nor dead-lettered.
    assert writer.batches == [[0, 1, 20, 21], [2]]
    assert producer.delivered == []
    assert consumer.committed == [(f"{PREFIX}readings", 0, 2), (f"{PREFIX}readings", 0, 3)]


def test_reassigned_partition_keeps_new_records() -> None:
    log: list[str] = []
    consumer = FakeConsumer(_readings(2, partition=3, first_offset=20), log)
    writer = FakeWriter(log)
    service = _service(consumer, FakeProducer(log), writer, CollectorRegistry())
    calls = 0

    def revoke_and_reassign_on_second_call() -> None:
        # An eager rebalance gives partition 3 back, so it is fetched again from the committed offset.
        nonlocal calls
        calls += 1
        if calls == 2:
            partition = [TopicPartition(f"{PREFIX}readings", 3)]
            service._on_revoke(consumer, partition)
            service._on_assign(consumer, partition)
            consumer.messages = _readings(3, partition=3, first_offset=20)

    consumer.on_consume = revoke_and_reassign_on_second_call
    service.collect_batch()
    service.process_batch()

    assert [(r.source.partition, r.source.offset) for r in writer.written] == [(3, 20), (3, 21), (3, 22)]
    assert consumer.committed == [(f"{PREFIX}readings", 3, 23)]
