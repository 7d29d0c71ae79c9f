"""The sink service: consume a batch, write it in a transaction, dead-letter failures, commit offsets.

Offsets are committed only after the batch's transaction has committed and its dead letters have
been acknowledged by the broker, so a crash at any point redelivers records that the idempotent
writes then skip (at-least-once, no duplicate rows). While the database is unavailable the
assigned partitions are paused and the same batch is retried with exponential backoff.

One batch at a time is written on a writer thread while the main thread fetches and decodes the
next one. Batches are finished (dead letters, offset commit) in the order they were consumed, and
the next batch is handed to the writer only after the previous one is finished. Every Kafka call
runs on the main thread. Up to two batches are in memory: the one being written and the next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from schemas.events import DeadLetter
from sinks.batch import BatchOutcome
from sinks.config import SinkSettings
from sinks.dead_letters import dead_letter_for
from sinks.exceptions import DatabaseUnavailable, RecordRejected
from sinks.metrics import SinkMetrics
from sinks.records import DecodedRecord, RejectedRecord, SourceRecord, TopicRouter, decode

logger = logging.getLogger(__name__)

_Item = TypeVar("_Item", DecodedRecord, RejectedRecord, SourceRecord)

_RebalanceCallback = Callable[[Any, list[TopicPartition]], None]

# How often the consumer lag gauge is refreshed, in seconds.
_LAG_INTERVAL_SECONDS = 5.0

# Maximum timeout of a consume() call while a batch is being written, so the batch's offsets are
# committed soon after its transaction even when records arrive slowly.
_IN_FLIGHT_CHECK_SECONDS = 0.05

# Records decoded between two hand-overs of the GIL to the writer thread, about a millisecond.
_DECODE_CHUNK = 100


class Consumer(Protocol):
    """The part of ``confluent_kafka.Consumer`` the service uses."""

    def subscribe(
        self,
        topics: list[str],
        on_assign: _RebalanceCallback | None = ...,
        on_revoke: _RebalanceCallback | None = ...,
        on_lost: _RebalanceCallback | None = ...,
    ) -> None: ...
    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]: ...
    def poll(self, timeout: float = -1) -> Any: ...
    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[False]) -> Any: ...
    def assignment(self) -> list[TopicPartition]: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def pause(self, partitions: list[TopicPartition]) -> None: ...
    def resume(self, partitions: list[TopicPartition]) -> None: ...
    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]: ...
    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int] | None: ...
    def close(self) -> None: ...


class Producer(Protocol):
    """The part of ``confluent_kafka.Producer`` the service uses."""

    def produce(
        self,
        topic: str,
        *,
        value: bytes | None = ...,
        key: bytes | None = ...,
        on_delivery: Callable[[Any, Any], None] | None = ...,
    ) -> None: ...
    def flush(self, timeout: float = -1) -> int: ...


class Writer(Protocol):
    """The database side of the service, which is :class:`sinks.batch.DatabaseWriter` in production."""

    def write_batch(self, records: Sequence[DecodedRecord]) -> BatchOutcome: ...
    def drop_old_readings(self, retain_days: int) -> int: ...
    def close(self) -> None: ...


class DeadLetterPublishFailed(Exception):
    """The broker did not acknowledge every dead letter of a batch."""


class _StopRequested(Exception):
    """A stop was requested while a batch waited for the database; the batch stays uncommitted."""


@dataclass(eq=False)
class Batch:
    """The records of one transaction, decoded as they are consumed.

    ``revoked`` lists the partitions revoked after the batch went to the writer. Their records may
    still be written, which the idempotent writes make harmless, but they are neither dead-lettered
    nor committed because the partition's next owner consumes them again.
    """

    records: list[SourceRecord] = field(default_factory=list)
    decoded: list[DecodedRecord] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)
    revoked: set[tuple[str, int]] = field(default_factory=set)
    started: float = 0.0
    write: Future[BatchOutcome] | None = None

    def __len__(self) -> int:
        return len(self.records)

    def drop(self, partitions: set[tuple[str, int]]) -> None:
        """Remove the records of the given partitions, before the batch goes to the writer."""
        self.records = [item for item in self.records if _coordinates(item) not in partitions]
        self.decoded = [item for item in self.decoded if _coordinates(item) not in partitions]
        self.rejected = [item for item in self.rejected if _coordinates(item) not in partitions]

    def live(self, items: Sequence[_Item]) -> list[_Item]:
        """Drop the items of partitions revoked while the batch was being written."""
        if not self.revoked:
            return list(items)
        return [item for item in items if _coordinates(item) not in self.revoked]


class SinkService:
    """Consume the subscribed topics in a consumer group and write them to the database."""

    def __init__(
        self,
        settings: SinkSettings,
        router: TopicRouter,
        consumer: Consumer,
        producer: Producer,
        writer: Writer,
        metrics: SinkMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._router = router
        self._consumer = consumer
        self._producer = producer
        self._writer = writer
        self._metrics = metrics
        self._clock = clock
        self._stop = threading.Event()
        self._paused = False
        # The batch being consumed (until the writer takes it) and the batch being written.
        self._next = Batch()
        self._in_flight: Batch | None = None
        # One thread, so the writer's connection is used by one batch at a time, in order.
        self._write_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink-writer")
        self._uncommitted: dict[tuple[str, int], int] = {}
        self._last_retention = float("-inf")
        self._last_lag = float("-inf")

    # Lifecycle

    def run(self, stop: threading.Event | None = None) -> None:
        """Subscribe and process batches until ``stop`` is set; close the consumer at the end.

        After a stop the batch being written and the batch already consumed are both written and
        committed before the consumer closes, unless the database is unavailable.
        """
        if stop is not None:
            self._stop = stop
        self._consumer.subscribe(
            self._router.topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        logger.info("sink started", extra={"topics": ",".join(self._router.topics)})
        try:
            while True:
                self.collect_batch()
                self.finish_write()
                self._maintain()
                if self._next:
                    self.start_write()
                if self._stop.is_set():
                    break
            self.finish_write()
        except _StopRequested:
            logger.info("stopped while waiting for the database; the batch will be redelivered")
        finally:
            # After an error a write may still run, and it must end before its connection closes.
            # Its offsets stay uncommitted, so its records are redelivered and skipped as duplicates.
            self._write_thread.shutdown(wait=True)
            self._in_flight = None
            self._commit_uncommitted()
            self._consumer.close()
            self._writer.close()
            logger.info("sink stopped")

    def stop(self) -> None:
        """Ask the run loop to finish the current batches and stop."""
        self._stop.set()

    # Batches

    def collect_batch(self) -> Batch:
        """Consume and decode records into the next batch until it contains ``sink_batch_size``
        records or ``sink_batch_seconds`` have passed, and return it.

        A batch being written meanwhile is finished as soon as its write returns, so its offsets
        are committed without waiting for this batch to fill.
        """
        batch = self._next
        size = self._settings.sink_batch_size
        deadline = self._clock() + self._settings.sink_batch_seconds
        while len(batch) < size and not self._stop.is_set():
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            if self._in_flight is not None:
                if self._in_flight.write is None or self._in_flight.write.done():
                    self.finish_write()
                    continue
                remaining = min(remaining, _IN_FLIGHT_CHECK_SECONDS)
            messages = self._consumer.consume(num_messages=size - len(batch), timeout=remaining)
            self._add(batch, self._accept(messages))
        return batch

    def start_write(self) -> None:
        """Hand the next batch to the writer thread and start a new one.

        Only one batch may be in flight, so call :meth:`finish_write` first.
        """
        if self._in_flight is not None:
            raise RuntimeError("a batch is still being written: call finish_write() before start_write()")
        batch, self._next = self._next, Batch()
        batch.started = self._clock()
        batch.write = self._write_thread.submit(self._writer.write_batch, list(batch.decoded))
        self._in_flight = batch

    def finish_write(self) -> None:
        """Wait for the batch in flight, retry it while the database is unavailable, dead-letter its
        rejected records, then commit its offsets. Do nothing when no batch is in flight."""
        batch = self._in_flight
        if batch is None:
            return
        try:
            self._finish(batch)
        finally:
            self._in_flight = None

    def process_batch(self) -> None:
        """Write the next batch and commit it before returning (no overlap with the next batch)."""
        self.finish_write()
        self.start_write()
        self.finish_write()

    def _finish(self, batch: Batch) -> None:
        write = batch.write
        first_attempt = write.result if write is not None else None
        outcome = self._retry(
            lambda: self._writer.write_batch(batch.live(batch.decoded)), first_attempt=first_attempt
        )
        rejected = batch.live(batch.rejected) + outcome.rejected
        if rejected:
            outcome.rows.update(self._retry(lambda: self._dead_letter(rejected)).rows)
        self._resume()

        for table, count in outcome.rows.items():
            self._metrics.rows_written.labels(table=table).inc(count)
        for record in batch.live(batch.records):
            key = (record.topic, record.partition)
            self._uncommitted[key] = max(self._uncommitted.get(key, -1), record.offset + 1)
        self._commit_uncommitted()
        self._metrics.batches.inc()
        self._metrics.batch_latency.observe(self._clock() - batch.started)
        logger.debug(
            "batch written",
            extra={"records": len(batch), "rows": sum(outcome.rows.values()), "rejected": len(rejected)},
        )

    def _accept(self, messages: Sequence[Any]) -> list[SourceRecord]:
        records = []
        per_topic: dict[str, int] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    self._metrics.errors.labels(kind="kafka").inc()
                    logger.warning("consumer error: %s", error, extra={"topic": message.topic()})
                continue
            record = SourceRecord(
                topic=message.topic(),
                partition=message.partition(),
                offset=message.offset(),
                key=message.key(),
                value=message.value(),
            )
            per_topic[record.topic] = per_topic.get(record.topic, 0) + 1
            records.append(record)
        for topic, count in per_topic.items():
            self._metrics.records_consumed.labels(topic=topic).inc(count)
        return records

    def _add(self, batch: Batch, records: Sequence[SourceRecord]) -> None:
        """Decode records into a batch, where those that fail to decode become rejected records."""
        batch.records.extend(records)
        for index, record in enumerate(records):
            if index % _DECODE_CHUNK == _DECODE_CHUNK - 1 and self._in_flight is not None:
                # A thread waiting for the GIL gets it after CPython's switch interval (5 ms by
                # default), so the writer thread could wait that long after each database round trip.
                time.sleep(0)
            kind = self._router.kind_of(record.topic)
            try:
                batch.decoded.append(DecodedRecord(record, decode(record, kind)))
            except RecordRejected as error:
                self._metrics.errors.labels(kind="decode").inc()
                batch.rejected.append(RejectedRecord(record, str(error), error.error_type))

    # Dead letters

    def _dead_letter(self, rejected: Sequence[RejectedRecord]) -> BatchOutcome:
        """Publish dead letters; those of the dead-letter topic itself go straight to the table."""
        to_table: list[DecodedRecord] = []
        to_topic: list[DeadLetter] = []
        for item in rejected:
            letter = dead_letter_for(item)
            logger.warning(
                "record dead-lettered: %s",
                item.reason,
                extra={
                    "topic": item.source.topic,
                    "partition": item.source.partition,
                    "offset": item.source.offset,
                    "farm": item.farm_id,
                    "house": item.house_number,
                },
            )
            if item.source.topic == self._router.dead_letter_topic:
                # Publishing it to the topic it came from would loop, so it is stored directly.
                to_table.append(DecodedRecord(item.source, letter))
            else:
                to_topic.append(letter)

        outcome = self._writer.write_batch(to_table) if to_table else BatchOutcome()
        for lost in outcome.rejected:
            self._metrics.errors.labels(kind="row_rejected").inc()
            logger.error(
                "dead letter could not be stored and is skipped: %s",
                lost.reason,
                extra={
                    "topic": lost.source.topic,
                    "partition": lost.source.partition,
                    "offset": lost.source.offset,
                },
            )
        if to_topic:
            self._publish(to_topic)
        for item in rejected:
            self._metrics.dead_letters.labels(error_type=item.error_type).inc()
        return outcome

    def _publish(self, letters: Sequence[DeadLetter]) -> None:
        failures: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(str(error))

        for letter in letters:
            key = (letter.farm_id or "sink").encode()
            self._producer.produce(
                self._router.dead_letter_topic, value=letter.to_bytes(), key=key, on_delivery=delivered
            )
        remaining = self._producer.flush(30.0)
        if remaining or failures:
            self._metrics.errors.labels(kind="dead_letter_publish").inc()
            raise DeadLetterPublishFailed(
                f"{remaining} dead letters not acknowledged, {len(failures)} failed: {failures[:3]}"
            )

    # Retry, pause and resume

    def _retry(
        self,
        attempt: Callable[[], BatchOutcome | None],
        first_attempt: Callable[[], BatchOutcome | None] | None = None,
    ) -> BatchOutcome:
        """Run ``first_attempt`` (default ``attempt``), then ``attempt`` until it succeeds or a stop."""
        delay = self._settings.sink_retry_initial_seconds
        current = first_attempt or attempt
        while True:
            try:
                return current() or BatchOutcome()
            except (DatabaseUnavailable, DeadLetterPublishFailed) as error:
                current = attempt
                kind = (
                    "database_unavailable"
                    if isinstance(error, DatabaseUnavailable)
                    else "dead_letter_publish"
                )
                self._metrics.errors.labels(kind=kind).inc()
                logger.warning("write failed, pausing consumption for %.1f s: %s", delay, error)
                self._pause()
                self._wait(delay)
                delay = min(delay * 2, self._settings.sink_retry_max_seconds)
                if self._stop.is_set():
                    raise _StopRequested from error

    def _pause(self) -> None:
        if not self._paused:
            self._consumer.pause(self._consumer.assignment())
            self._paused = True
            self._metrics.paused.set(1)

    def _resume(self) -> None:
        if self._paused:
            self._consumer.resume(self._consumer.assignment())
            self._paused = False
            self._metrics.paused.set(0)
            logger.info("database writes succeed again, consumption resumed")

    def _wait(self, seconds: float) -> None:
        """Wait while polling the paused consumer, so group membership and rebalances are served."""
        deadline = self._clock() + seconds
        while not self._stop.is_set():
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            message = self._consumer.poll(min(remaining, 0.5))
            if message is not None:
                # Appended to the next batch, so records stay in offset order across batches.
                self._add(self._next, self._accept([message]))

    # Offsets and rebalances

    def _commit_uncommitted(self, only: set[tuple[str, int]] | None = None) -> None:
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in sorted(self._uncommitted.items())
            if only is None or (topic, partition) in only
        ]
        if not offsets:
            return
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as error:
            # The records are redelivered after a rebalance and skipped as duplicates.
            self._metrics.errors.labels(kind="commit").inc()
            logger.warning("offset commit failed, records will be redelivered: %s", error)
            return
        for item in offsets:
            self._uncommitted.pop((item.topic, item.partition), None)

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        logger.info("partitions assigned", extra={"partitions": _describe(partitions)})
        if self._paused:
            consumer.assign(partitions)
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        revoked = {(item.topic, item.partition) for item in partitions}
        self._commit_uncommitted(only=revoked)
        self._forget(revoked)
        logger.info("partitions revoked", extra={"partitions": _describe(partitions)})

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        lost = {(item.topic, item.partition) for item in partitions}
        for key in lost:
            self._uncommitted.pop(key, None)
        self._forget(lost)
        logger.warning("partitions lost", extra={"partitions": _describe(partitions)})

    def _forget(self, partitions: set[tuple[str, int]]) -> None:
        """Give up the records of partitions that this consumer no longer owns.

        The partition's next owner, or this consumer after a reassignment, consumes them again
        from the committed offset.
        """
        # A consume() call returns no record fetched before a rebalance that it served, because
        # librdkafka (2.16 here) purges them from the call's result (rd_kafka_purge_outdated_messages).
        self._next.drop(partitions)
        if self._in_flight is not None:
            self._in_flight.revoked.update(partitions)

    # Housekeeping

    def _maintain(self) -> None:
        now = self._clock()
        if now - self._last_lag >= _LAG_INTERVAL_SECONDS:
            self._last_lag = now
            self._update_lag()
        if "readings" in self._router.kinds and (
            now - self._last_retention >= self._settings.sink_retention_interval_seconds
        ):
            self._last_retention = now
            try:
                removed = self._writer.drop_old_readings(self._settings.retain_days)
            except DatabaseUnavailable as error:
                logger.warning("readings retention failed, trying again next interval: %s", error)
            else:
                if removed:
                    logger.info("readings past retention removed", extra={"removed": removed})

    def _update_lag(self) -> None:
        try:
            assignment = self._consumer.assignment()
            positions = self._consumer.position(assignment) if assignment else []
        except KafkaException as error:
            logger.debug("consumer lag not available: %s", error)
            return
        for position in positions:
            watermarks = self._consumer.get_watermark_offsets(position, cached=True)
            if watermarks is None or position.offset < 0 or watermarks[1] < 0:
                continue
            self._metrics.consumer_lag.labels(topic=position.topic, partition=str(position.partition)).set(
                max(watermarks[1] - position.offset, 0)
            )


def _coordinates(item: DecodedRecord | RejectedRecord | SourceRecord) -> tuple[str, int]:
    source = item if isinstance(item, SourceRecord) else item.source
    return source.topic, source.partition


def _describe(partitions: Sequence[TopicPartition]) -> str:
    return ",".join(f"{item.topic}[{item.partition}]" for item in partitions)
