"""Kafka records as the sink receives them, and their decoding into the events of ``schemas.events``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from pydantic import TypeAdapter, ValidationError

from schemas.decoding import AnyReading, decode_reading, starts_like_reading
from schemas.events import (
    Alert,
    DeadLetter,
    FailurePrediction,
    HouseStatus,
    Recommendation,
    ScrapeLog,
    predictions_topic_adapter,
    readings_topic_adapter,
)
from schemas.topics import ALERTS, DEAD_LETTER, PREDICTIONS, READINGS, SCRAPE_LOG, TopicSpec, topic_name
from sinks.exceptions import RecordRejected

SinkEvent = AnyReading | HouseStatus | Alert | FailurePrediction | Recommendation | ScrapeLog | DeadLetter

TopicKind = Literal["readings", "alerts", "predictions", "scrape-log", "dead-letter"]

TOPIC_SPECS: dict[TopicKind, TopicSpec] = {
    "readings": READINGS,
    "alerts": ALERTS,
    "predictions": PREDICTIONS,
    "scrape-log": SCRAPE_LOG,
    "dead-letter": DEAD_LETTER,
}

_ADAPTERS: dict[TopicKind, TypeAdapter[SinkEvent]] = {
    "readings": readings_topic_adapter,  # type: ignore[dict-item]
    "alerts": TypeAdapter(Alert),  # type: ignore[dict-item]
    "predictions": predictions_topic_adapter,  # type: ignore[dict-item]
    "scrape-log": TypeAdapter(ScrapeLog),  # type: ignore[dict-item]
    "dead-letter": TypeAdapter(DeadLetter),  # type: ignore[dict-item]
}


@dataclass(frozen=True)
class SourceRecord:
    """One Kafka record with the coordinates needed to commit it and to dead-letter it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DecodedRecord:
    """A record and the event decoded from it."""

    source: SourceRecord
    event: SinkEvent


@dataclass(frozen=True)
class RejectedRecord:
    """A record that cannot be written, with the reason that goes into its dead letter."""

    source: SourceRecord
    reason: str
    error_type: str
    farm_id: str | None = None
    house_number: int | None = None


class TopicRouter:
    """Map full topic names (with the deployment's prefix) to the kind of events they carry."""

    def __init__(self, prefix: str, kinds: tuple[TopicKind, ...]) -> None:
        self.kinds = kinds
        self._by_name: dict[str, TopicKind] = {topic_name(TOPIC_SPECS[kind], prefix): kind for kind in kinds}
        self.dead_letter_topic = topic_name(DEAD_LETTER, prefix)

    @property
    def topics(self) -> list[str]:
        """Return the full names of the subscribed topics."""
        return list(self._by_name)

    def kind_of(self, topic: str) -> TopicKind:
        """Return the kind of a subscribed topic; raise KeyError for another topic."""
        return self._by_name[topic]


def decode(record: SourceRecord, kind: TopicKind) -> SinkEvent:
    """Parse and validate a record's value as the event its topic carries; raise RecordRejected."""
    if record.value is None:
        raise RecordRejected(f"empty value (tombstone) on {kind} topic: nothing to write", "EmptyValue")
    if kind == "readings" and starts_like_reading(record.value):
        # Nearly every record of the topic is a reading: msgspec decodes it in a third of the time,
        # and the schema's model below decides on whatever msgspec rejects.
        reading = decode_reading(record.value)
        if reading is not None:
            return reading
    try:
        # pydantic parses the JSON bytes itself, several times faster than json.loads first.
        return _ADAPTERS[kind].validate_json(record.value)
    except ValidationError as error:
        if not any(item["type"] == "json_invalid" for item in error.errors()):
            raise RecordRejected(
                f"value does not match the {kind} topic's event schema: {_summarize(error)}", "SchemaInvalid"
            ) from error
        cause = error
    try:
        record.value.decode("utf-8")
    except UnicodeDecodeError as encoding_error:
        raise RecordRejected(f"value is not UTF-8 text: {encoding_error}", "InvalidEncoding") from cause
    try:
        json.loads(record.value)
    except json.JSONDecodeError as json_error:
        raise RecordRejected(f"value is not valid JSON: {json_error}", "InvalidJson") from cause
    raise RecordRejected(f"value is not valid JSON: {_summarize(cause)}", "InvalidJson") from cause


def _summarize(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item["loc"]) or "value"
        problems.append(f"{location}: {item['msg']}")
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
