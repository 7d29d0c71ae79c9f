"""Unit tests of batched delivery: the batch message and per-batch processing (fakes, no Kafka)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from faust.types import TP
from prometheus_client import CollectorRegistry
from sp_events import START, STEP, make_reading

from stream_processors.app import AgentsApp, topic_names
from stream_processors.batching import RecordBatch, batch_message
from stream_processors.config import AgentSettings
from stream_processors.metrics import AgentMetrics
from stream_processors.worker import InputMessage, PartitionWorker

TOPICS = topic_names("t.")


@dataclass
class FakeRecord:
    """The fields of an aiokafka ConsumerRecord that a batch message reads."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    timestamp: int | None = 1_700_000_000_000
    timestamp_type: int = 0
    serialized_value_size: int = 10


def test_batch_message_keeps_every_record() -> None:
    tp = TP(TOPICS.readings, 3)
    records = [FakeRecord(TOPICS.readings, 3, offset, b"v%d" % offset) for offset in range(40, 45)]
    message = batch_message(tp, records, generation_id=7)
    assert (message.topic, message.partition, message.offset) == (TOPICS.readings, 3, 44)
    assert isinstance(message.value, RecordBatch)
    assert [(record.offset, record.value) for record in message.value] == [
        (offset, b"v%d" % offset) for offset in range(40, 45)
    ]
    assert message.serialized_value_size == 50
    assert message.generation_id == 7


def _sample(registry: CollectorRegistry, name: str, labels: dict[str, str] | None = None) -> float:
    value = registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_bad_message_in_batch_dead_lettered_alone() -> None:
    registry = CollectorRegistry()
    worker = PartitionWorker(topics=TOPICS, metrics=AgentMetrics(registry))
    values: list[bytes | None] = [
        make_reading("temperature.average", 25.0, START + step * STEP).to_bytes() for step in range(5)
    ]
    values[2] = b"{not json"
    messages = worker.handle_records(
        TOPICS.readings, 0, [InputMessage(offset, value) for offset, value in enumerate(values)]
    )
    assert [message.topic for message in messages] == [TOPICS.dead_letter]
    assert b"{not json" in messages[0].value
    assert worker.progress[0].last_offset == 4
    counted = "farmstream_agents_events_processed_total"
    assert _sample(registry, counted, {"kind": "reading"}) == 4
    assert _sample(registry, "farmstream_agents_batch_processing_seconds_count") == 1


def test_invalid_reading_reason_same_on_both_paths() -> None:
    worker = PartitionWorker(topics=TOPICS)
    document = json.loads(make_reading("temperature.average", 25.0, START).to_bytes())
    document["value"] = "warm"
    compact = json.dumps(document, separators=(",", ":")).encode()  # as the producers write it
    spaced = json.dumps(document).encode()  # not recognised as a reading: goes through the union
    reasons = []
    for offset, value in enumerate([compact, spaced]):
        [letter] = worker.handle_records(TOPICS.readings, 0, [InputMessage(offset, value)])
        reasons.append(json.loads(letter.value)["reason"])
    assert reasons[0].startswith("invalid event at reading.value: ")
    assert reasons[0] == reasons[1]


def test_non_finite_value_dead_lettered() -> None:
    worker = PartitionWorker(topics=TOPICS)
    compact = make_reading("temperature.sensor_1", 25.0, START).to_bytes()
    values = [compact.replace(b'"value":25.0', token) for token in (b'"value":NaN', b'"value":1e400')]
    assert all(value != compact for value in values)
    letters = worker.handle_records(
        TOPICS.readings, 0, [InputMessage(n, value) for n, value in enumerate(values)]
    )
    reasons = [json.loads(letter.value)["reason"] for letter in letters]

    assert [letter.topic for letter in letters] == [TOPICS.dead_letter] * 2
    for reason in reasons:
        assert reason.startswith("invalid event at reading.value: ")
    assert worker.processors[0].state.sensors == {}


class _Panic(BaseException):
    """A stand-in for pyo3's PanicException, which derives from BaseException."""


def test_panic_in_core_dead_lettered_alone() -> None:
    worker = PartitionWorker(topics=TOPICS)
    values = [make_reading("temperature.average", 25.0, START + step * STEP).to_bytes() for step in range(3)]
    worker.restore(0, None, None)
    process = worker.processors[0].process
    calls = []

    def panicking(event: object) -> list[object]:
        calls.append(event)
        if len(calls) == 2:
            raise _Panic("called `Option::unwrap()` on a `None` value")
        return process(event)  # type: ignore[arg-type]

    worker.processors[0].process = panicking  # type: ignore[method-assign,assignment]
    letters = worker.handle_records(
        TOPICS.readings, 0, [InputMessage(n, value) for n, value in enumerate(values)]
    )

    assert [letter.topic for letter in letters] == [TOPICS.dead_letter]
    assert json.loads(letters[0].value)["reason"].startswith("processing failed: _Panic: ")
    assert len(calls) == 3


def test_interrupt_in_core_not_swallowed() -> None:
    worker = PartitionWorker(topics=TOPICS)
    worker.restore(0, None, None)

    def interrupted(event: object) -> list[object]:
        raise KeyboardInterrupt

    worker.processors[0].process = interrupted  # type: ignore[method-assign,assignment]
    value = make_reading("temperature.average", 25.0, START).to_bytes()
    with pytest.raises(KeyboardInterrupt):
        worker.handle_records(TOPICS.readings, 0, [InputMessage(0, value)])


def test_covered_offsets_skipped_in_batch() -> None:
    registry = CollectorRegistry()
    worker = PartitionWorker(topics=TOPICS, metrics=AgentMetrics(registry))
    worker.restore(0, None, None)
    worker.progress[0].covered_offset = 2
    batch = [
        InputMessage(offset, make_reading("co2", 1500.0, START + offset * STEP, unit="ppm").to_bytes())
        for offset in range(5)
    ]
    worker.handle_records(TOPICS.readings, 0, batch)
    assert _sample(registry, "farmstream_agents_events_skipped_total") == 3
    assert _sample(registry, "farmstream_agents_events_processed_total", {"kind": "reading"}) == 2
    assert worker.progress[0].last_offset == 4
    assert worker.progress[0].events_since_checkpoint == 2


class FailingProducer:
    """A producer whose flush works and whose every send fails, as during a broker restart."""

    async def flush(self) -> None:
        return None

    async def send(self, *args: object) -> None:
        raise ConnectionError("broker restarting")

    async def send_and_wait(self, *args: object) -> None:
        raise ConnectionError("broker restarting")


def _agents_with(producer: object, tmp_path: Path) -> AgentsApp:
    """Return agents with a fake producer, no output offsets and partition 0 restored empty."""
    settings = AgentSettings(topic_prefix="t.", agents_data_dir=tmp_path, checkpoint_every_events=1)
    agents = AgentsApp(settings)
    agents.app._producer = producer  # type: ignore[assignment]

    async def no_offsets(topics: list[str]) -> dict[str, dict[int, int]]:
        return {}

    agents._end_offsets = no_offsets  # type: ignore[method-assign]
    agents.worker.restore(0, None, None)  # no checkpoint to read
    return agents


def test_failed_checkpoint_keeps_slot_and_due(tmp_path: Path) -> None:
    agents = _agents_with(FailingProducer(), tmp_path)
    value = make_reading("co2", 1500.0, START, unit="ppm").to_bytes()
    # The checkpoint after the batch fails: the batch is still handled and the agent goes on.
    asyncio.run(agents.handle_batch(TOPICS.readings, 0, [InputMessage(0, value)]))
    progress = agents.worker.progress[0]
    assert progress.slot is None
    assert agents.worker.checkpoint_due(0)
    assert progress.last_offset == 0


class Clock:
    """A monotonic clock that moves only when a test advances it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _clocked_worker(every_events: int, interval_seconds: float) -> tuple[PartitionWorker, Clock]:
    """Return a worker with the checkpoint budget and interval, on a clock the test advances."""
    clock = Clock()
    worker = PartitionWorker(
        TOPICS,
        checkpoint_every_events=every_events,
        checkpoint_interval_seconds=interval_seconds,
        monotonic=clock,
    )
    return worker, clock


def test_budget_checkpoint_spaced_by_cost() -> None:
    worker, clock = _clocked_worker(every_events=2, interval_seconds=60)
    worker.restore(0, None, None)
    readings = [make_reading("co2", 900.0 + n, START + n * STEP, unit="ppm").to_bytes() for n in range(6)]
    worker.handle_records(TOPICS.readings, 0, [InputMessage(0, readings[0]), InputMessage(1, readings[1])])
    assert worker.checkpoint_due(0)  # no write yet to space it from
    worker.checkpoint(0, {})
    clock.now += 0.5
    worker.checkpoint_took(0.5)
    worker.handle_records(TOPICS.readings, 0, [InputMessage(2, readings[2]), InputMessage(3, readings[3])])
    clock.now += 9.9
    assert not worker.checkpoint_due(0)  # the budget is spent, but 20 x 0.5 s have not passed
    clock.now += 0.2
    assert worker.checkpoint_due(0)


def test_interval_checkpoint_ignores_cost() -> None:
    worker, clock = _clocked_worker(every_events=100, interval_seconds=30)
    worker.restore(0, None, None)
    worker.checkpoint_took(5.0)
    value = make_reading("co2", 900.0, START, unit="ppm").to_bytes()
    worker.handle_records(TOPICS.readings, 0, [InputMessage(0, value)])
    clock.now += 30
    assert worker.checkpoint_due(0)


def test_spent_budget_keeps_interval_due() -> None:
    worker, clock = _clocked_worker(every_events=2, interval_seconds=30)
    worker.checkpoint_took(2.0)  # spaces budget checkpoints 40 s apart
    values = [make_reading("co2", 900.0 + n, START + n * STEP, unit="ppm").to_bytes() for n in range(10)]
    worker.handle_records(TOPICS.readings, 0, [InputMessage(n, values[n]) for n in range(5)])
    due = []
    for offset in range(5):
        # A quiet partition writes its interval checkpoint every 30 s, each taking 2 s.
        worker.handle_records(TOPICS.readings, 1, [InputMessage(offset, values[offset])])
        clock.now += 30
        due.append(worker.checkpoint_due(0))
        if worker.checkpoint_due(1):
            worker.checkpoint(1, {})
            worker.checkpoint_took(2.0)
    # Partition 0 spent its budget long ago; its interval must still bring a checkpoint.
    assert all(due), due


class RecordingProducer:
    """A producer that stores each message a moment after it is sent and logs the order of events."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def flush(self) -> None:
        return None

    async def send(self, topic: str, key: bytes, value: bytes, *args: object) -> asyncio.Future[None]:
        self.log.append(f"send {key.decode()}")
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def store() -> None:
            self.log.append(f"stored {key.decode()}")
            stored.set_result(None)

        asyncio.get_running_loop().call_later(0.01, store)
        return stored

    async def send_and_wait(self, topic: str, key: bytes, value: bytes, *args: object) -> None:
        await (await self.send(topic, key, value))


def test_manifest_written_after_every_shard(tmp_path: Path) -> None:
    producer = RecordingProducer()
    agents = _agents_with(producer, tmp_path)
    records = [
        InputMessage(house, make_reading("co2", 900.0, START, house=house, unit="ppm").to_bytes())
        for house in (1, 2, 3)
    ]
    agents.worker.handle_records(TOPICS.readings, 0, records)
    asyncio.run(agents.write_checkpoint(0, None))
    shards = [line for line in producer.log if "manifest" not in line]
    assert len(shards) == 6  # three houses, each sent and stored
    assert producer.log[-2:] == ["send 0/manifest", "stored 0/manifest"]
    assert agents.worker.progress[0].slot == 0


def test_concurrent_checkpoints_write_once(tmp_path: Path) -> None:
    producer = RecordingProducer()
    agents = _agents_with(producer, tmp_path)
    value = make_reading("co2", 900.0, START, unit="ppm").to_bytes()
    agents.worker.handle_records(TOPICS.readings, 0, [InputMessage(0, value)])

    async def both() -> None:
        # The checkpoint loop and the batch handler finding the partition due at the same time.
        await asyncio.gather(agents.write_checkpoint(0, None), agents.write_checkpoint(0, None))

    asyncio.run(both())
    assert producer.log.count("send 0/manifest") == 1
