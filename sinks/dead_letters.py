"""Dead-letter events for the records the sink cannot write."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Literal

from schemas.events import DeadLetter, deterministic_id, payload_digest
from sinks.records import RejectedRecord


def raw_payload(value: bytes | None) -> tuple[Literal["utf-8", "base64"], str]:
    """Return (encoding, text) for a raw value: UTF-8 text when it is clean, else base64."""
    if value is None:
        return "utf-8", ""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return "base64", base64.b64encode(value).decode("ascii")
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL characters.
        return "base64", base64.b64encode(value).decode("ascii")
    return "utf-8", text


def dead_letter_for(rejected: RejectedRecord, now: datetime | None = None) -> DeadLetter:
    """Build the dead letter of a rejected record.

    The id comes from the topic, the error type and a digest of the raw bytes, so a redelivered or
    re-published copy of the same bad record gets the same id and is stored once.
    """
    source = rejected.source
    encoding, payload = raw_payload(source.value)
    digest = payload_digest(source.value or b"")
    return DeadLetter(
        event_id=deterministic_id("dead_letter", "sink", source.topic, rejected.error_type, digest),
        stage="sink",
        reason=rejected.reason,
        error_type=rejected.error_type,
        farm_id=rejected.farm_id,
        house_number=rejected.house_number,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
        raw_encoding=encoding,
        raw_payload=payload,
        created_at=now or datetime.now(UTC),
    )
