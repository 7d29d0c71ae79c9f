"""Kafka-free glue between raw messages and the processing core, one processor per input partition.

:class:`PartitionWorker` parses each message inside its own error boundary, so a message that
fails becomes a :class:`DeadLetter` and processing goes on. It routes events to the processor of
their readings partition and skips messages already covered by a restored checkpoint. After a
restore it drops outputs that the output topics already contain. It also decides when a
partition is due for a checkpoint. The Faust app (:mod:`stream_processors.app`) moves the bytes.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from schemas.decoding import decode_reading, starts_like_reading
from schemas.events import (
    Alert,
    DeadLetter,
    FailurePrediction,
    Reading,
    Recommendation,
    ScrapeLog,
    deterministic_id,
    readings_key,
    readings_topic_adapter,
)
from stream_processors.checkpoint import Manifest, encode_checkpoint
from stream_processors.core import InputEvent, Output, Processor, ProcessorConfig, ProcessorState
from stream_processors.exceptions import InvalidEventError
from stream_processors.metrics import AgentMetrics

logger = logging.getLogger(__name__)

SCRAPE_LOG_PARTITION_BASE = 1_000_000
"""Processors of scrape-log partitions are keyed from here, apart from readings partitions."""

_validate_reading = Reading.__pydantic_validator__.validate_json


@dataclass(frozen=True)
class TopicNames:
    """Full names of the topics the agents read and write."""

    readings: str
    scrape_log: str
    alerts: str
    predictions: str
    dead_letter: str
    checkpoints: str


class InputRecord(Protocol):
    """An input message as the consumer delivers it: its offset and its raw value."""

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class InputMessage:
    """An input message built by hand, for a caller that has no consumer record."""

    offset: int
    value: bytes | None


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish."""

    topic: str
    key: bytes
    value: bytes


@dataclass
class PartitionProgress:
    """Checkpoint bookkeeping of one input partition."""

    covered_offset: int = -1
    last_offset: int = -1
    events_since_checkpoint: int = 0
    last_checkpoint_monotonic: float = 0.0
    slot: int | None = None


@dataclass
class PartitionWorker:
    """Processors, checkpoint progress and duplicate suppression for the partitions of one worker."""

    topics: TopicNames
    config: ProcessorConfig = field(default_factory=ProcessorConfig)
    metrics: AgentMetrics | None = None
    checkpoint_interval_seconds: float = 30.0
    checkpoint_every_events: int = 20000
    checkpoint_spacing: float = 20.0
    monotonic: Callable[[], float] = time.monotonic
    processors: dict[int, Processor] = field(default_factory=dict)
    progress: dict[int, PartitionProgress] = field(default_factory=dict)
    suppressed_ids: set[str] = field(default_factory=set)
    # When the worker's last checkpoint write ended and how long it took, over all partitions.
    _last_write_end: float = field(default=0.0, init=False)
    _last_write_seconds: float = field(default=0.0, init=False)
    _event_counters: dict[str, Any] = field(default_factory=dict)

    def restore(self, partition: int, manifest: Manifest | None, state: ProcessorState | None) -> None:
        """Install a partition's restored state, or an empty one when there is no checkpoint."""
        self.processors[partition] = Processor(self.config, state)
        progress = PartitionProgress(last_checkpoint_monotonic=self.monotonic())
        if manifest is not None:
            progress.covered_offset = manifest.offset
            progress.last_offset = manifest.offset
            progress.slot = manifest.slot
        self.progress[partition] = progress

    def release(self, partition: int) -> None:
        """Forget a partition that moved to another worker."""
        self.processors.pop(partition, None)
        self.progress.pop(partition, None)

    def slot_of(self, topic: str, partition: int) -> int:
        """Return the processor key of an input partition: readings from 0, scrape logs from the base."""
        return partition if topic == self.topics.readings else SCRAPE_LOG_PARTITION_BASE + partition

    def source_of(self, slot: int) -> tuple[str, int]:
        """Return the (topic, partition) of a processor key."""
        topic = self.topics.readings if slot < SCRAPE_LOG_PARTITION_BASE else self.topics.scrape_log
        return topic, slot % SCRAPE_LOG_PARTITION_BASE

    def handle(self, topic: str, partition: int, offset: int, value: bytes | None) -> list[OutgoingMessage]:
        """Process one input message and return the messages to publish, dead letters included."""
        return self.handle_records(topic, partition, [InputMessage(offset, value)])

    def handle_records(
        self, topic: str, partition: int, records: Sequence[InputRecord]
    ) -> list[OutgoingMessage]:
        """Process one partition's messages in order, each in its own error boundary.

        Returns the messages to publish, dead letters included. The metrics are updated once.
        """
        started = time.perf_counter()
        slot = self.slot_of(topic, partition)
        if slot not in self.processors:
            self.restore(slot, None, None)
        progress = self.progress[slot]
        process = self.processors[slot].process
        covered = last_offset = progress.covered_offset
        parse = self._parse_scrape_log if topic == self.topics.scrape_log else self._parse_reading
        messages: list[OutgoingMessage] = []
        kinds: dict[str, int] = {}
        processed = 0
        for record in records:
            offset, value = record.offset, record.value
            if offset <= covered:
                continue
            last_offset = offset
            processed += 1
            try:
                event = parse(value)
                outputs = process(event)
                if outputs:
                    messages += self._publishable(outputs)
                kind = event.kind
                kinds[kind] = kinds.get(kind, 0) + 1
            except InvalidEventError as error:
                messages.append(
                    self._dead_letter(topic, partition, offset, value, error.reason, error.error_type)
                )
            except (KeyboardInterrupt, SystemExit):
                raise
            # One failing event must not stop the agent. A panic in compiled code (River's Rust core
            # raises pyo3's PanicException) is a BaseException, not an Exception.
            except BaseException as error:
                logger.exception(
                    "processing failed, sending the event to the dead-letter topic",
                    extra={"topic": topic, "partition": partition, "offset": offset},
                )
                reason = f"processing failed: {type(error).__name__}: {error}"
                messages.append(self._dead_letter(topic, partition, offset, value, reason, "ProcessingError"))
        if processed:
            progress.last_offset = last_offset
            progress.events_since_checkpoint += processed
        if self.metrics:
            for name, count in kinds.items():
                self._event_counter(name).inc(count)
            if len(records) > processed:
                self.metrics.skipped.inc(len(records) - processed)
            if processed:
                self.metrics.batch_latency.observe(time.perf_counter() - started)
        return messages

    def _event_counter(self, kind: str) -> Any:
        counter = self._event_counters.get(kind)
        if counter is None and self.metrics is not None:
            counter = self._event_counters[kind] = self.metrics.events.labels(kind)
        return counter

    def refresh_gauges(self) -> None:
        """Set the gauges of detector warm-up and sensor count. Nothing here changes an output."""
        if self.metrics:
            self.metrics.warming.set(sum(p.warming_detectors() for p in self.processors.values()))
            self.metrics.sensors.set(sum(len(p.state.sensors) for p in self.processors.values()))

    def checkpoint_due(self, partition: int) -> bool:
        """Return whether a partition has unsaved events and its interval or event budget is spent.

        A checkpoint that the event budget calls for waits until ``checkpoint_spacing`` times the
        worker's last checkpoint write has passed since that write. A worker catching up on a
        backlog thus spends at most about a twentieth of its time on checkpoints, however large its
        state. The interval still applies, since other partitions' writes can keep resetting that wait.
        """
        progress = self.progress.get(partition)
        if progress is None or progress.events_since_checkpoint == 0:
            return False
        now = self.monotonic()
        if (
            progress.events_since_checkpoint >= self.checkpoint_every_events
            and now - self._last_write_end >= self.checkpoint_spacing * self._last_write_seconds
        ):
            return True
        return now - progress.last_checkpoint_monotonic >= self.checkpoint_interval_seconds

    def checkpoint_took(self, seconds: float) -> None:
        """Record how long the checkpoint just written took, which spaces the next budget checkpoint."""
        self._last_write_end = self.monotonic()
        self._last_write_seconds = seconds
        if self.metrics:
            self.metrics.checkpoint_seconds.observe(seconds)

    def checkpoint(
        self, partition: int, output_offsets: dict[str, dict[int, int]]
    ) -> tuple[Manifest, list[tuple[str, bytes]]]:
        """Encode a partition's checkpoint and mark it written; publish the messages in order."""
        progress = self.progress[partition]
        manifest, messages = encode_checkpoint(
            partition, progress.last_offset, self.processors[partition].state, progress.slot, output_offsets
        )
        progress.slot = manifest.slot
        progress.covered_offset = max(progress.covered_offset, progress.last_offset)
        progress.events_since_checkpoint = 0
        progress.last_checkpoint_monotonic = self.monotonic()
        if self.metrics:
            self.metrics.checkpoints.inc()
            self.metrics.checkpoint_bytes.labels(str(partition)).set(sum(len(v) for _, v in messages))
        return manifest, messages

    def _parse_reading(self, value: bytes | None) -> InputEvent:
        """Parse a message of the readings topic: a reading or a house status."""
        if value is None:
            raise InvalidEventError("empty message value", "EmptyMessage")
        # Nearly every message of the topic is a reading, which the compiled decoder takes. The
        # schema's models decide on what it rejects, a house status among them.
        decoded = decode_reading(value)
        if decoded is not None:
            return decoded
        if starts_like_reading(value):
            # The model checks every field, ``kind`` included, and names the field as the union
            # would (``reading.value``).
            try:
                reading: Reading = _validate_reading(value)
            except ValidationError as error:
                raise _invalid(error, "reading") from None
            return reading
        try:
            return readings_topic_adapter.validate_json(value)
        except ValidationError as error:
            raise _invalid(error) from None

    def _parse_scrape_log(self, value: bytes | None) -> InputEvent:
        if value is None:
            raise InvalidEventError("empty message value", "EmptyMessage")
        try:
            return ScrapeLog.model_validate_json(value)
        except ValidationError as error:
            raise _invalid(error) from None

    def _publishable(self, outputs: list[Output]) -> list[OutgoingMessage]:
        messages = []
        for output in outputs:
            if output.event_id in self.suppressed_ids:
                self.suppressed_ids.discard(output.event_id)
                if self.metrics:
                    self.metrics.suppressed.inc()
                continue
            key = readings_key(output.farm_id, output.house_number)
            if isinstance(output, Alert):
                messages.append(OutgoingMessage(self.topics.alerts, key, output.to_bytes()))
                if self.metrics:
                    self.metrics.alerts.labels(output.rule, output.severity, output.state).inc()
            elif isinstance(output, FailurePrediction | Recommendation):
                messages.append(OutgoingMessage(self.topics.predictions, key, output.to_bytes()))
                if self.metrics:
                    self.metrics.predictions.labels(output.kind).inc()
        return messages

    def _dead_letter(
        self, topic: str, partition: int, offset: int, value: bytes | None, reason: str, error_type: str
    ) -> OutgoingMessage:
        raw = value or b""
        farm_id = _farm_of(raw)
        try:
            payload, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            payload, encoding = base64.b64encode(raw).decode("ascii"), "base64"
        letter = DeadLetter(
            event_id=deterministic_id("dead_letter", "stream_processor", topic, partition, offset),
            stage="stream_processor",
            reason=reason,
            error_type=error_type,
            farm_id=farm_id,
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            raw_encoding=encoding,  # type: ignore[arg-type]
            raw_payload=payload,
            created_at=datetime.now(UTC),
        )
        if self.metrics:
            self.metrics.dead_letters.labels(error_type).inc()
        logger.warning(
            "dead-lettered an input message: %s",
            reason,
            extra={"topic": topic, "partition": partition, "offset": offset, "farm": farm_id},
        )
        key = (farm_id or "stream_processor").encode()
        return OutgoingMessage(self.topics.dead_letter, key, letter.to_bytes())


def _invalid(error: ValidationError, model: str | None = None) -> InvalidEventError:
    """Return the dead-letter reason of a message that failed validation, naming its first error."""
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": str(error)}
    location = [str(part) for part in first["loc"]]
    where = ".".join([model, *location] if model and location else location) or "message"
    return InvalidEventError(f"invalid event at {where}: {first['msg']}", "InvalidEvent")


def _farm_of(raw: bytes) -> str | None:
    """Return the farm id of a raw JSON payload when it has one, for the dead letter's key."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    farm = document.get("farm_id") if isinstance(document, dict) else None
    return farm if isinstance(farm, str) and farm else None
