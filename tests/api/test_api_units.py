"""Unit tests of key hashing and cursors; no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.exceptions import RequestValidationError

from api.keys import generate_key, hash_secret, split_key, verify_secret
from api.pagination import decode_event_cursor, decode_reading_cursor, encode_cursor, split_page

MOMENT = datetime(2026, 3, 2, 12, 30, 15, 123456, tzinfo=UTC)


def test_generated_key_verifies() -> None:
    key_id, key, stored = generate_key()
    parts = split_key(key)
    assert parts is not None
    assert parts[0] == key_id
    assert verify_secret(parts[1], stored)
    assert not verify_secret(parts[1] + "x", stored)
    assert parts[1] not in stored


def test_hash_uses_fresh_salt() -> None:
    first, second = hash_secret("secret"), hash_secret("secret")
    assert first != second
    assert verify_secret("secret", first)
    assert verify_secret("secret", second)


@pytest.mark.parametrize("stored", ["", "md5$00$00", "sha256$zz$00", "sha256$00", "sha256$$"])
def test_malformed_hash_never_verifies(stored: str) -> None:
    assert not verify_secret("secret", stored)


@pytest.mark.parametrize("key", ["", "fsk_", "fsk_id", "fsk_.secret", "fsk_id.", "key_id.secret"])
def test_malformed_key_does_not_split(key: str) -> None:
    assert split_key(key) is None


def test_cursor_round_trip_keeps_microseconds() -> None:
    cursor = encode_cursor("readings:raw:instant", (MOMENT, "farm/house-1", "temperature.average"))
    assert decode_reading_cursor(cursor, "readings:raw:instant") == (
        MOMENT,
        "farm/house-1",
        "temperature.average",
    )
    event = encode_cursor("alerts", (MOMENT, "5d0e8c1c-0000-4000-8000-000000000000"))
    assert decode_event_cursor(event, "alerts") == (MOMENT, "5d0e8c1c-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        encode_cursor("alerts", (MOMENT, "id")),
        encode_cursor("readings:1h:instant", (MOMENT, "c", "p")),
        "WyJyZWFkaW5nczpyYXc6aW5zdGFudCIsIm5vdC1hLWRhdGUiLCJjIiwicCJd",
    ],
)
def test_bad_reading_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(RequestValidationError) as raised:
        decode_reading_cursor(cursor, "readings:raw:instant")
    assert raised.value.errors()[0]["loc"] == ("query", "cursor")


def test_split_page_reports_last_row() -> None:
    assert split_page([1, 2, 3], 2) == ([1, 2], 2)
    assert split_page([1, 2], 2) == ([1, 2], None)
    assert split_page([], 2) == ([], None)
