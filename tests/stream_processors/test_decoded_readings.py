"""Readings decoded by msgspec in the agents: the fallback to the schema, and the same scores.

Unit tests, no Kafka: the simulator's farms fed in one process (``sim_feed``).
"""

from __future__ import annotations

import json

from sim_feed import SimulatorFeed, simulator_config
from sp_events import START, make_reading

from schemas.decoding import decode_reading
from schemas.events import Reading
from stream_processors.core import Processor
from stream_processors.worker import InputMessage, PartitionWorker, TopicNames

STEPS = 48  # 4 simulated hours


def test_schema_decides_rejected_reading() -> None:
    # Pydantic's lax mode takes a number in a string, which the compiled decoder rejects. The
    # worker falls back to the schema, so the reading is scored rather than dead-lettered.
    document = json.loads(make_reading("temperature.average", 24.5, START).to_bytes())
    payload = json.dumps({**document, "value": "24.5"}, separators=(",", ":")).encode()
    assert decode_reading(payload) is None
    worker = PartitionWorker(TopicNames("r", "s", "a", "p", "d", "c"))
    messages = worker.handle_records("r", 0, [InputMessage(0, payload)])
    assert [message.topic for message in messages if message.topic == "d"] == []
    assert worker.processors[0].state.sensors


def test_both_forms_score_alike() -> None:
    feed = SimulatorFeed(simulator_config(seed=7))
    by_model, by_decoder = Processor(), Processor()
    outputs = 0
    for _ in range(STEPS):
        for event in feed.cycle():
            expected = by_model.process(event)
            if isinstance(event, Reading):
                decoded = decode_reading(event.to_bytes())
                assert decoded is not None, event
                got = by_decoder.process(decoded)
            else:
                got = by_decoder.process(event)
            assert [output.model_dump() for output in got] == [output.model_dump() for output in expected]
            outputs += len(expected)
        feed.portal.advance(1)
    assert outputs > 0, "no output to compare"  # alerts, predictions or recommendations
