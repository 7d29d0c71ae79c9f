"""The sink service: consume a batch, write it in a transaction, dead-letter failures, commit offsets.

Offsets are committed only after the batch's transaction has committed and its dead letters have
been acknowledged by the broker, so a crash at any point redelivers records that the idempotent
writes then skip (at-least-once, no duplicate rows). While the database is unavailable the
assigned partitions are paused and the same batch is retried with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
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
        self._held: list[SourceRecord] = []
        self._revoked: set[tuple[str, int]] = set()
        self._uncommitted: dict[tuple[str, int], int] = {}
        self._last_retention = float("-inf")
        self._last_lag = float("-inf")

    # Lifecycle

    def run(self, stop: threading.Event | None = None) -> None:
        """Subscribe and process batches until ``stop`` is set; close the consumer at the end."""
        if stop is not None:
            self._stop = stop
        self._consumer.subscribe(
            self._router.topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        logger.info("sink started", extra={"topics": ",".join(self._router.topics)})
        try:
            while not self._stop.is_set():
                # TODO: fetch and decode the next batch while this one is written; decoding is
                # about a fifth of the end-to-end time and the database waits meanwhile.
                batch = self.collect_batch()
                if batch:
                    self.process_batch(batch)
                self._maintain()
        except _StopRequested:
            logger.info("stopped while waiting for the database; the batch will be redelivered")
        finally:
            self._commit_uncommitted()
            self._consumer.close()
            self._writer.close()
            logger.info("sink stopped")

    def stop(self) -> None:
        """Ask the run loop to finish the current batch and stop."""
        self._stop.set()

    # Batches

    def collect_batch(self) -> list[SourceRecord]:
        """Return up to ``sink_batch_size`` records, waiting at most ``sink_batch_seconds``."""
        # Partitions revoked from now on are dropped from this batch before it is written.
        self._revoked.clear()
        batch, self._held = self._held, []
        deadline = self._clock() + self._settings.sink_batch_seconds
        while len(batch) < self._settings.sink_batch_size and not self._stop.is_set():
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            messages = self._consumer.consume(
                num_messages=self._settings.sink_batch_size - len(batch), timeout=remaining
            )
            batch.extend(self._accept(messages))
        return batch

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

    def process_batch(self, batch: Sequence[SourceRecord]) -> None:
        """Write a batch, dead-letter what cannot be written, then commit the batch's offsets."""
        started = self._clock()
        decoded, rejected = self._decode(batch)

        outcome = self._retry(lambda: self._writer.write_batch(self._live(decoded)))
        rejected = self._live(rejected) + outcome.rejected
        if rejected:
            outcome.rows.update(self._retry(lambda: self._dead_letter(rejected)).rows)
        self._resume()

        for table, count in outcome.rows.items():
            self._metrics.rows_written.labels(table=table).inc(count)
        for record in self._live(batch):
            key = (record.topic, record.partition)
            self._uncommitted[key] = max(self._uncommitted.get(key, -1), record.offset + 1)
        self._commit_uncommitted()
        self._metrics.batches.inc()
        self._metrics.batch_latency.observe(self._clock() - started)
        logger.debug(
            "batch written",
            extra={"records": len(batch), "rows": sum(outcome.rows.values()), "rejected": len(rejected)},
        )

    def _decode(self, batch: Sequence[SourceRecord]) -> tuple[list[DecodedRecord], list[RejectedRecord]]:
        decoded: list[DecodedRecord] = []
        rejected: list[RejectedRecord] = []
        for record in batch:
            kind = self._router.kind_of(record.topic)
            try:
                decoded.append(DecodedRecord(record, decode(record, kind)))
            except RecordRejected as error:
                self._metrics.errors.labels(kind="decode").inc()
                rejected.append(RejectedRecord(record, str(error), error.error_type))
        return decoded, rejected

    def _live(self, items: Sequence[_Item]) -> list[_Item]:
        """Drop the items of partitions revoked while the batch was waiting for the database."""
        if not self._revoked:
            return list(items)
        return [item for item in items if _coordinates(item) not in self._revoked]

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

    def _retry(self, attempt: Callable[[], BatchOutcome | None]) -> BatchOutcome:
        delay = self._settings.sink_retry_initial_seconds
        while True:
            try:
                return attempt() or BatchOutcome()
            except (DatabaseUnavailable, DeadLetterPublishFailed) as error:
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
                self._held.extend(self._accept([message]))

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
        self._revoked.update(revoked)
        self._held = [record for record in self._held if (record.topic, record.partition) not in revoked]
        logger.info("partitions revoked", extra={"partitions": _describe(partitions)})

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        lost = {(item.topic, item.partition) for item in partitions}
        for key in lost:
            self._uncommitted.pop(key, None)
        self._revoked.update(lost)
        self._held = [record for record in self._held if (record.topic, record.partition) not in lost]
        logger.warning("partitions lost", extra={"partitions": _describe(partitions)})

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
