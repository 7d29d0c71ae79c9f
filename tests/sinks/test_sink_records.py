"""Unit tests of record decoding and dead-letter building (no broker, no database)."""

from __future__ import annotations

import base64
import json

import pytest

from schemas.decoding import DecodedReading
from schemas.events import HouseStatus, Reading
from sinks.dead_letters import dead_letter_for, raw_payload
from sinks.exceptions import RecordRejected
from sinks.records import RejectedRecord, SourceRecord, TopicRouter, decode
from sinks.writers import reading_row
from tests.sinks.sink_events import house_status, reading


def _record(value: bytes | None, topic: str = "p.readings", offset: int = 7) -> SourceRecord:
    return SourceRecord(topic=topic, partition=2, offset=offset, key=b"farm-a/1", value=value)


def test_decode_reading_and_status() -> None:
    decoded_reading = decode(_record(reading("farm-a", 1, 0).to_bytes()), "readings")
    decoded_status = decode(_record(house_status("farm-a", 1, 0).to_bytes()), "readings")

    assert isinstance(decoded_reading, DecodedReading)  # msgspec's fast path
    assert isinstance(decoded_status, HouseStatus)
    expected = reading("farm-a", 1, 0)
    assert reading_row(decoded_reading) == reading_row(expected)


def test_rejected_reading_decoded_by_schema() -> None:
    # A number in a string: msgspec rejects it, pydantic's lax mode takes it, so the row is kept.
    document = json.loads(reading("farm-a", 1, 0).to_bytes())
    value = json.dumps({**document, "value": str(document["value"])}, separators=(",", ":")).encode()
    decoded = decode(_record(value), "readings")

    assert isinstance(decoded, Reading)
    assert reading_row(decoded) == reading_row(reading("farm-a", 1, 0))


@pytest.mark.parametrize(
    ("value", "error_type", "message"),
    [
        (None, "EmptyValue", "empty value"),
        (b"\xff\xfe{", "InvalidEncoding", "not UTF-8"),
        (b"{not json", "InvalidJson", "not valid JSON"),
        (b'{"kind": "reading", "farm_id": "x"}', "SchemaInvalid", "event_id: Field required"),
        (b'{"kind": "alert"}', "SchemaInvalid", "does not match the readings topic"),
    ],
)
def test_decode_rejects_bad_values(value: bytes | None, error_type: str, message: str) -> None:
    with pytest.raises(RecordRejected, match=message) as caught:
        decode(_record(value), "readings")

    assert caught.value.error_type == error_type


def test_decode_reading_on_alerts_topic() -> None:
    with pytest.raises(RecordRejected) as caught:
        decode(_record(reading("farm-a", 1, 0).to_bytes(), topic="p.alerts"), "alerts")

    assert caught.value.error_type == "SchemaInvalid"


def test_router_maps_prefixed_topics() -> None:
    router = TopicRouter("test-1.", ("readings", "dead-letter"))

    assert router.topics == ["test-1.readings", "test-1.dead-letter"]
    assert router.kind_of("test-1.dead-letter") == "dead-letter"
    assert router.dead_letter_topic == "test-1.dead-letter"
    with pytest.raises(KeyError):
        router.kind_of("test-1.alerts")


def test_raw_payload_keeps_text_and_encodes_binary() -> None:
    assert raw_payload(b'{"a": 1}') == ("utf-8", '{"a": 1}')
    assert raw_payload(b"\xff\x00") == ("base64", base64.b64encode(b"\xff\x00").decode())
    assert raw_payload(b"nul\x00inside") == ("base64", base64.b64encode(b"nul\x00inside").decode())
    assert raw_payload(None) == ("utf-8", "")


def test_dead_letter_id_from_payload() -> None:
    rejected = RejectedRecord(_record(b"{bad"), "value is not valid JSON", "InvalidJson", "farm-a", 1)
    republished = RejectedRecord(_record(b"{bad", offset=8), "another reason", "InvalidJson")
    other_bytes = RejectedRecord(_record(b"{bad!"), "value is not valid JSON", "InvalidJson")

    letter = dead_letter_for(rejected)

    assert letter.event_id == dead_letter_for(republished).event_id
    assert letter.event_id != dead_letter_for(other_bytes).event_id
    assert letter.stage == "sink"
    assert letter.raw_payload == "{bad"
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == ("p.readings", 2, 7)
    assert (letter.farm_id, letter.house_number) == ("farm-a", 1)
