"""The Faust app: agents over the readings and scrape-log topics, with partition checkpoints.

Messages are read as raw bytes and parsed inside :class:`PartitionWorker`'s error boundary, so one
bad message becomes a dead letter and the agent goes on. Each readings partition has its own
processor; all events of one controller share a partition because the readings key is farm/house.

The input topics are read through :mod:`stream_processors.batching`: each partition's share of a
fetch reaches the agent as one stream event, so Faust's per-message cost is paid per batch.

Delivery guarantee, after a crash (SIGKILL) or a rebalance:

* State is checkpointed per partition every ``checkpoint_interval_seconds`` or
  ``checkpoint_every_events`` events (spaced by the last checkpoint's cost, see
  ``PartitionWorker.checkpoint_due``) to the compacted topic ``<prefix>agents-checkpoints``, and
  once more when a partition is revoked or the worker stops.
* Consumer offsets are committed only right after a checkpoint, up to the offset it covers. Faust
  never commits the input topics itself (they are declared without acknowledgements). A restarted
  worker restores the checkpoint and skips the messages it covers.
* Messages after the checkpoint are processed again from the restored state, which yields the
  same outputs with the same deterministic ids. Outputs that the alerts and predictions topics
  already contain after the offsets recorded in the checkpoint are not published again, and
  outputs lost in the producer's buffer are published by the replay.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import faust
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from schemas.topics import ALERTS, DEAD_LETTER, PREDICTIONS, READINGS, SCRAPE_LOG, topic_name
from stream_processors import kafka_io
from stream_processors.batching import BatchingApp, RecordBatch, commit_offsets
from stream_processors.checkpoint import decode_checkpoint
from stream_processors.config import AgentSettings
from stream_processors.core import ProcessorConfig
from stream_processors.exceptions import CheckpointMismatchError
from stream_processors.metrics import AgentMetrics
from stream_processors.worker import (
    InputMessage,
    InputRecord,
    OutgoingMessage,
    PartitionWorker,
    TopicNames,
)

logger = logging.getLogger(__name__)

CHECKPOINT_SUFFIX = "agents-checkpoints"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Gauges, lag and the activity summary log line are refreshed this often.
REPORT_SECONDS = 60.0
CHECKPOINT_POLL_SECONDS = 1.0
FINAL_CHECKPOINT_TIMEOUT_SECONDS = 15.0
# Records processed between two returns to the event loop.
CHUNK_SIZE = 1000


def topic_names(prefix: str) -> TopicNames:
    """Return the full topic names under a prefix."""
    return TopicNames(
        readings=topic_name(READINGS, prefix),
        scrape_log=topic_name(SCRAPE_LOG, prefix),
        alerts=topic_name(ALERTS, prefix),
        predictions=topic_name(PREDICTIONS, prefix),
        dead_letter=topic_name(DEAD_LETTER, prefix),
        checkpoints=f"{prefix}{CHECKPOINT_SUFFIX}",
    )


def broker_url(bootstrap: str) -> str:
    """Return Faust's broker URL for a bootstrap address given with or without the kafka:// scheme."""
    return bootstrap if "://" in bootstrap else f"kafka://{bootstrap}"


def plain_bootstrap(bootstrap: str) -> str:
    """Return host:port for aiokafka from a bootstrap address that may carry a scheme."""
    return bootstrap.split("://", 1)[-1]


class AgentsApp:
    """The Faust app of the stream processors and the state it drives."""

    def __init__(
        self,
        settings: AgentSettings,
        registry: CollectorRegistry | None = None,
        config: ProcessorConfig | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = AgentMetrics(self.registry)
        self.topics = topic_names(settings.topic_prefix)
        self.bootstrap = plain_bootstrap(settings.kafka_bootstrap)
        self.worker = PartitionWorker(
            topics=self.topics,
            config=config or ProcessorConfig(scrape_interval_seconds=settings.scrape_interval_seconds),
            metrics=self.metrics,
            checkpoint_interval_seconds=settings.checkpoint_interval_seconds,
            checkpoint_every_events=settings.checkpoint_every_events,
        )
        self._restore_lock = asyncio.Lock()
        self._offset_reader = kafka_io.EndOffsetReader(self.bootstrap)
        self._checkpoint_lock = asyncio.Lock()
        self._checkpoint_task: asyncio.Future[None] | None = None
        # Activity since the last summary log line, keyed by topic name or "checkpoints".
        self._since_report: dict[str, int] = {}
        self.app = self._build()

    def _build(self) -> faust.App:
        settings = self.settings
        app = BatchingApp(
            settings.agents_app_id,
            broker=broker_url(settings.kafka_bootstrap),
            value_serializer="raw",
            key_serializer="raw",
            store="memory://",
            datadir=str(settings.agents_data_dir),
            autodiscover=False,
            web_enabled=True,
            web_port=settings.agents_metrics_port,
            web_bind="127.0.0.1",
            web_host="127.0.0.1",
            topic_replication_factor=1,
            topic_allow_declare=True,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=3600.0,
            broker_commit_every=1_000_000_000,
            producer_max_request_size=MAX_MESSAGE_BYTES,
            consumer_max_fetch_size=MAX_MESSAGE_BYTES,
            table_standby_replicas=0,
        )
        # No Faust acknowledgements on the inputs: only a checkpoint commits their offsets.
        readings = app.topic(self.topics.readings, key_type=bytes, value_type=bytes, acks=False)
        scrape_log = app.topic(self.topics.scrape_log, key_type=bytes, value_type=bytes, acks=False)
        self.checkpoint_topic = app.topic(
            self.topics.checkpoints,
            key_type=bytes,
            value_type=bytes,
            partitions=1,
            compacting=True,
            deleting=False,
            config={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
        )
        self._outputs = {
            name: app.topic(name, key_type=bytes, value_type=bytes)
            for name in (self.topics.alerts, self.topics.predictions, self.topics.dead_letter)
        }

        async def process(stream: faust.StreamT[RecordBatch]) -> None:
            async for event in stream.events():
                message = event.message
                topic, partition = message.topic, message.partition
                batch = cast(RecordBatch, event.value)
                # TODO: a worker reaches 0.34 to 0.39 of a raw aiokafka consumer's rate, at times only a few
                # percent over the target of a third. Parse and core cost about 5 us a reading and the fetch
                # about 3 us, in a thread that shares the interpreter lock. A fetch outside it adds margin.
                # A fetch may hold thousands of records: other tasks (timers, /metrics) run between chunks.
                for start in range(0, len(batch), CHUNK_SIZE):
                    await self.handle_batch(topic, partition, batch[start : start + CHUNK_SIZE])

        async def metrics_page(web: Any, request: Any) -> Any:
            return web.bytes(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])

        app.agent(readings, name="readings")(process)
        app.agent(scrape_log, name="scrape-log")(process)

        async def report_timer() -> None:
            await self._guarded(self.report, "activity report")

        app.timer(REPORT_SECONDS, name="agents-report")(report_timer)
        app.on_partitions_assigned.connect(cast(Any, self._on_assigned))
        app.on_partitions_revoked.connect(cast(Any, self._on_revoked))
        app.on_before_shutdown.connect(cast(Any, self._on_shutdown))
        app.page("/metrics")(metrics_page)
        return app

    async def _guarded(self, step: Callable[[], Awaitable[None]], action: str) -> None:
        try:
            await step()
        except Exception:  # a failed round is retried by the next timer round
            logger.exception("%s failed, retrying on the next round", action)

    def _source(self, slot: int) -> TopicPartition:
        return TopicPartition(*self.worker.source_of(slot))

    async def handle(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        """Process one message, publish what it gives, and checkpoint its partition when due."""
        await self.handle_batch(topic, partition, [InputMessage(offset, value)])

    async def handle_batch(self, topic: str, partition: int, records: Sequence[InputRecord]) -> None:
        """Process one partition's messages in order, publish what they give, then checkpoint when due.

        Each message still has its own error boundary in :meth:`PartitionWorker.handle_records`, so a
        bad one becomes a dead letter alone.
        """
        slot = self.worker.slot_of(topic, partition)
        if slot not in self.worker.processors:
            await self._restore_slot(slot)
        if self._checkpoint_task is None:
            self._checkpoint_task = asyncio.ensure_future(self._checkpoint_loop())
        await self.publish(self.worker.handle_records(topic, partition, records))
        if self.worker.checkpoint_due(slot):
            # A broker that is restarting fails the checkpoint's reads or writes. The checkpoint
            # stays due, so the next batch or the checkpoint loop writes it, and the agent goes on.
            source = TopicPartition(topic, partition)
            await self._guarded(lambda: self.write_checkpoint(slot, source), "checkpoint")

    async def publish(self, messages: list[OutgoingMessage]) -> None:
        """Send messages to their topics (buffered by the producer)."""
        for message in messages:
            await self._outputs[message.topic].send(key=message.key, value=message.value)
            self._since_report[message.topic] = self._since_report.get(message.topic, 0) + 1

    async def _checkpoint_loop(self) -> None:
        """Checkpoint due partitions every second, also while no event arrives."""
        while not self.app.should_stop:
            await asyncio.sleep(CHECKPOINT_POLL_SECONDS)
            await self._guarded(self.checkpoint_due_partitions, "checkpoint")

    async def report(self) -> None:
        """Refresh the gauges and the lag, and log what was published since the last report.

        Nothing here changes an output: every alert comes from the events alone.
        """
        self.worker.refresh_gauges()
        consumer = self.app.consumer
        total_lag = 0
        for slot, progress in self.worker.progress.items():
            source = self._source(slot)
            try:
                highwater = consumer.highwater(source)
            except (KeyError, AssertionError, IllegalStateError):  # revoked since the last report
                highwater = None
            if highwater is not None:
                lag = max(0, highwater - progress.last_offset - 1)
                self.metrics.consumer_lag.labels(source.topic, str(source.partition)).set(lag)
                total_lag += lag
        counts, self._since_report = self._since_report, {}
        logger.info(
            "agents activity: %d alerts, %d predictions, %d dead letters, %d checkpoints, lag %d",
            counts.get(self.topics.alerts, 0),
            counts.get(self.topics.predictions, 0),
            counts.get(self.topics.dead_letter, 0),
            counts.get("checkpoints", 0),
            total_lag,
            extra={
                "alerts": counts.get(self.topics.alerts, 0),
                "dead_letters": counts.get(self.topics.dead_letter, 0),
                "partitions": len(self.worker.processors),
                "lag": total_lag,
            },
        )

    async def checkpoint_due_partitions(self) -> None:
        """Checkpoint every partition whose interval has passed, also when no new event arrives."""
        for slot in list(self.worker.processors):
            if self.worker.checkpoint_due(slot):
                await self.write_checkpoint(slot, self._source(slot))

    async def write_checkpoint(self, slot: int, source: TopicPartition | None) -> None:
        """Flush outputs, write one partition's checkpoint, then commit the offsets it covers.

        Writes take turns, because the checkpoint loop and the batch handler can both find a
        partition due. The second then finds no new event and writes nothing.
        """
        async with self._checkpoint_lock:
            progress = self.worker.progress.get(slot)
            if progress is not None and progress.events_since_checkpoint > 0:
                await self._write_checkpoint(slot, source)

    async def _write_checkpoint(self, slot: int, source: TopicPartition | None) -> None:
        started = self.worker.monotonic()
        await self.app.producer.flush()
        output_offsets = await self._end_offsets([self.topics.alerts, self.topics.predictions])
        progress = self.worker.progress[slot]
        before = (progress.slot, progress.events_since_checkpoint, progress.last_checkpoint_monotonic)
        _, messages = self.worker.checkpoint(slot, output_offsets)
        # Sent directly rather than through Faust's buffer, which is gone during shutdown.
        producer = self.app.producer
        try:
            # The shards go out together and the manifest only after every shard is stored, so a
            # manifest never names a shard that a crash left unwritten.
            *shards, (manifest_name, manifest_value) = messages
            sent = [
                await producer.send(self.topics.checkpoints, key.encode(), value, 0, None, None)
                for key, value in shards
            ]
            await asyncio.gather(*sent)
            await producer.send_and_wait(
                self.topics.checkpoints, manifest_name.encode(), manifest_value, 0, None, None
            )
        except Exception:
            # The slot written to is incomplete: the next attempt writes the same slot again, so the
            # other one keeps the last complete checkpoint, and the partition stays due.
            progress.slot, progress.last_checkpoint_monotonic = before[0], before[2]
            progress.events_since_checkpoint = max(before[1], 1)
            raise
        if source is not None:
            covered = self.worker.progress[slot].covered_offset
            await commit_offsets(self.app, {(source.topic, source.partition): covered + 1})
        self.worker.checkpoint_took(self.worker.monotonic() - started)
        self._since_report["checkpoints"] = self._since_report.get("checkpoints", 0) + 1
        # Every write at DEBUG; the per-minute activity line counts them at INFO.
        logger.debug(
            "checkpoint written",
            extra={
                "partition": slot,
                "offset": self.worker.progress[slot].covered_offset,
                "bytes": sum(len(value) for _, value in messages),
            },
        )

    async def _end_offsets(self, topics: list[str]) -> dict[str, dict[int, int]]:
        return await asyncio.to_thread(self._offset_reader.end_offsets, topics)

    async def _restore_slot(self, slot: int) -> None:
        """Restore a partition's state from its latest checkpoint before its first event."""
        async with self._restore_lock:
            if slot in self.worker.processors:
                return
            await self.checkpoint_topic.maybe_declare()
            await self._restore(slot, await self._read_checkpoints())

    async def _restore(self, slot: int, stored: dict[str, bytes]) -> None:
        try:
            decoded = decode_checkpoint(slot, stored)
        except CheckpointMismatchError as error:
            logger.warning(
                "checkpoint rejected, the partition starts from empty state: %s",
                error,
                extra={"partition": slot},
            )
            self.metrics.restores.labels("rejected").inc()
            decoded = None
        if decoded is None:
            self.worker.restore(slot, None, None)
            self.metrics.restores.labels("empty").inc()
            logger.info("no checkpoint, the partition starts from empty state", extra={"partition": slot})
            return
        manifest, state = decoded
        self.worker.restore(slot, manifest, state)
        self.worker.suppressed_ids |= await self._published_ids(manifest.output_offsets)
        self.metrics.restores.labels("restored").inc()
        logger.info(
            "partition state restored at offset %d: %d controllers, %d open alerts",
            manifest.offset,
            len(state.controllers),
            sum(1 for machine in state.machines.values() if machine.is_open),
            extra={
                "partition": slot,
                "offset": manifest.offset,
                "controllers": len(state.controllers),
                "sensors": len(state.sensors),
            },
        )

    async def _read_checkpoints(self) -> dict[str, bytes]:
        """Read the compacted checkpoint topic to its end and keep the latest value of each key."""
        stored: dict[str, bytes] = {}
        records = await asyncio.to_thread(
            kafka_io.read_range, self.bootstrap, {(self.topics.checkpoints, 0): 0}
        )
        for key, value in records:
            stored[key.decode()] = value
        return stored

    async def _published_ids(self, since: dict[str, dict[int, int]]) -> set[str]:
        """Return the event ids published on the output topics after the given offsets."""
        starts = {
            (topic, partition): offset
            for topic, partitions in since.items()
            for partition, offset in partitions.items()
        }
        ids: set[str] = set()
        for _, value in await asyncio.to_thread(kafka_io.read_range, self.bootstrap, starts):
            try:
                ids.add(str(json.loads(value)["event_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return ids

    async def _on_assigned(self, sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        assigned: set[Any] = set(args[0]) if args else set(kwargs.get("assigned", ()))
        for tp in sorted(assigned, key=lambda tp: (tp.topic, tp.partition)):
            if tp.topic in (self.topics.readings, self.topics.scrape_log):
                logger.info("partition assigned", extra={"topic": tp.topic, "partition": tp.partition})

    async def _on_revoked(self, sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        revoked: set[Any] = set(args[0]) if args else set()
        for tp in revoked:
            if tp.topic not in (self.topics.readings, self.topics.scrape_log):
                continue
            slot = self.worker.slot_of(tp.topic, tp.partition)
            if slot in self.worker.processors:
                await self._final_checkpoint(slot)
                self.worker.release(slot)
                logger.info("partition revoked", extra={"topic": tp.topic, "partition": tp.partition})

    async def _on_shutdown(self, sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
        for slot in list(self.worker.processors):
            await self._final_checkpoint(slot)
        await asyncio.to_thread(self._offset_reader.close)

    async def _final_checkpoint(self, slot: int) -> None:
        progress = self.worker.progress.get(slot)
        if progress is None or progress.events_since_checkpoint == 0:
            return
        try:
            await asyncio.wait_for(
                self.write_checkpoint(slot, self._source(slot)), FINAL_CHECKPOINT_TIMEOUT_SECONDS
            )
        except Exception:  # the worker is leaving, so the last periodic checkpoint remains in force
            logger.exception("final checkpoint failed", extra={"partition": slot})


def create_app(settings: AgentSettings | None = None, registry: CollectorRegistry | None = None) -> AgentsApp:
    """Build the agents app from settings (read from FARMSTREAM_* variables when not given)."""
    return AgentsApp(settings or AgentSettings(), registry)
