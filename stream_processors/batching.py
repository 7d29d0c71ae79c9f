"""Faust delivery of whole fetched record batches, one stream event per partition and fetch.

Faust passes every Kafka record through its conductor, channel queue, event and acknowledgement
machinery. On a 2-core machine that measured tens of microseconds per record, more than scoring a
reading. The agents'
input topics are therefore read through :class:`BatchingConsumer`, which hands each partition's
share of a fetch to the stream as one message. Its value is a :class:`RecordBatch` of the
fetched records and its offset is the batch's last, so the agent receives the records in order and
Faust's per-message cost is paid once per batch.

The input topics are declared without Faust acknowledgements (``acks=False``): Faust never
commits their offsets on its own. The agents commit an offset only after the checkpoint that
covers it (:func:`commit_offsets`).

Relies on faust-streaming 0.15.3 internals (``Consumer._wait_next_records`` and
``Consumer._commit_offsets``); the version is pinned in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ConsumerMessage


class RecordBatch(list[Any]):
    """The aiokafka ``ConsumerRecord``s of one partition from one fetch, in offset order."""


class BatchingConsumer(faust_aiokafka.Consumer):
    """A Faust consumer that yields one message per partition and fetch instead of one per record."""

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, faust.types.Message]]:  # noqa: ASYNC109
        records, active_partitions = await self._wait_next_records(timeout)
        if records is None or self.should_stop:
            return
        if not self.flow_active:
            # Flow stopped while fetching (a rebalance): go back to the committed offsets, as Faust does.
            await self.perform_seek()
            return
        generation_id = self.app.consumer_generation_id
        for tp, batch in records.items():
            if self.app.consumer_generation_id != generation_id or not self.flow_active:
                break
            if not batch:
                continue
            if active_partitions is None or tp in active_partitions or tp in self._buffered_partitions:
                self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                yield tp, batch_message(tp, batch, generation_id)


def batch_message(tp: TP, batch: list[Any], generation_id: int) -> ConsumerMessage:
    """Return one Faust message for a partition's fetched records: the last record's offset, all values."""
    last = batch[-1]
    timestamp = None if last.timestamp is None else last.timestamp / 1000.0
    return ConsumerMessage(
        last.topic,
        last.partition,
        last.offset,
        cast(float, timestamp),
        last.timestamp_type,
        [],
        None,
        cast(bytes, RecordBatch(batch)),
        None,
        0,
        sum(record.serialized_value_size for record in batch),
        tp,
        generation_id=generation_id,
    )


class BatchingTransport(faust_aiokafka.Transport):
    """The aiokafka transport with :class:`BatchingConsumer`."""

    Consumer = BatchingConsumer


class BatchingApp(faust.App):
    """A Faust app whose consumer delivers record batches (:class:`BatchingConsumer`)."""

    def _new_transport(self) -> Any:
        return BatchingTransport(self.conf.broker_consumer, self)


async def commit_offsets(app: faust.App, offsets: Mapping[tuple[str, int], int]) -> bool:
    """Commit the next offset to read of each (topic, partition), skipping partitions no longer assigned."""
    consumer = cast(Any, app.consumer)
    committed = await consumer._commit_offsets(
        {TP(topic, partition): offset for (topic, partition), offset in offsets.items()}
    )
    return bool(committed)
