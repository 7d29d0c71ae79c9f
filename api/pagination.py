"""Opaque keyset cursors for time-ordered lists.

A cursor is URL-safe base64 of a JSON array: the list it belongs to, then the sort key of the
last row served (a timestamp and one or two ids). Clients pass it back unchanged; a cursor from
another list or bucket, or one that was altered, is rejected with 422 on ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import TypeVar

from api.exceptions import invalid_parameter
from api.validation import has_control_character

RowT = TypeVar("RowT")
Keyset = tuple[datetime, str] | tuple[datetime, str, str]

_INVALID = "invalid cursor: pass next_cursor of the previous page unchanged"


def encode_cursor(kind: str, key: Keyset) -> str:
    """Return the cursor that resumes a list of a kind after the row with this sort key."""
    moment, *ids = key
    payload = json.dumps([kind, moment.isoformat(), *ids], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(cursor: str, kind: str, id_count: int) -> tuple[datetime, list[str]]:
    invalid = _INVALID
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_parameter("cursor", invalid, cursor) from None
    if not (
        isinstance(payload, list)
        and len(payload) == 2 + id_count
        and all(isinstance(item, str) and not has_control_character(item) for item in payload)
    ):
        raise invalid_parameter("cursor", invalid, cursor)
    if payload[0] != kind:
        raise invalid_parameter(
            "cursor", f"cursor belongs to {payload[0]!r}, not {kind!r}: restart without a cursor", cursor
        )
    try:
        moment = datetime.fromisoformat(payload[1])
    except ValueError:
        raise invalid_parameter("cursor", invalid, cursor) from None
    if moment.tzinfo is None:
        raise invalid_parameter("cursor", invalid, cursor)
    return moment, payload[2:]


def decode_event_cursor(cursor: str, kind: str) -> tuple[datetime, str]:
    """Return the (time, id) sort key inside a cursor of a kind, or raise a 422 error on ``cursor``.

    Alert and event ids are UUID columns, so an id that is not a UUID is rejected here.
    """
    moment, ids = _decode(cursor, kind, 1)
    try:
        event_id = str(uuid.UUID(ids[0]))
    except ValueError:
        raise invalid_parameter("cursor", _INVALID, cursor) from None
    return moment, event_id


def decode_reading_cursor(cursor: str, kind: str) -> tuple[datetime, str, str]:
    """Return the (time, controller, parameter) sort key inside a readings cursor, or raise a 422 error."""
    moment, ids = _decode(cursor, kind, 2)
    return moment, ids[0], ids[1]


def split_page(rows: list[RowT], limit: int) -> tuple[list[RowT], RowT | None]:
    """Split rows fetched with ``LIMIT limit + 1`` into the page and, if more rows exist, its last row."""
    if len(rows) > limit:
        page = rows[:limit]
        return page, page[-1]
    return rows, None
