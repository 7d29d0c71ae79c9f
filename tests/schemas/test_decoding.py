"""The compiled reading decoder against the schema's model, on valid and edge-case JSON.

Unit tests. The decoder may reject what the schema accepts (the caller then asks the schema), but
it must never accept what the schema rejects, nor give a different value.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.decoding import DecodedReading, decode_reading
from schemas.events import Reading

AT = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
STEPS = 48  # 4 simulated hours of the default farms


def valid_document() -> dict[str, Any]:
    reading = Reading(
        event_id=Reading.make_id("farm-1/house-2", "temperature.average", "instant", AT),
        farm_id="farm-1",
        house_number=2,
        controller_id="farm-1/house-2",
        parameter="temperature.average",
        source_key="General.Average_Temperature",
        source_command="RNBL_GetCommandData/0",
        value=24.5,
        unit="degC",
        target=25.0,
        growth_day=12,
        controller_time="06:30",
        observed_at=AT,
        fetched_at=AT,
    )
    document: dict[str, Any] = json.loads(reading.to_bytes())
    return document


DATETIMES = [
    "2026-03-01T06:30:00Z",
    "2026-03-01T06:30:00+02:00",
    "2026-03-01T06:30:00-00:00",
    "2026-03-01T06:30:00.123456Z",
    "2026-03-01T06:30:00.1234567Z",
    "2026-03-01T06:30:00,5Z",
    "2026-03-01t06:30:00z",
    "2026-03-01 06:30:00Z",
    "2026-03-01T06:30Z",
    "2026-03-01T06:30:00",
    "2026-03-01",
    "2026-03-01T24:00:00Z",
    "2026-02-30T06:30:00Z",
    "2026-03-01T23:59:60Z",
    "2026-03-01T06:30:00+24:00",
    "2026-03-01T06:30:00+0200",
    "+2026-03-01T06:30:00Z",
    "",
    1772346600,
    1772346600.5,
    "1772346600",
    None,
]
TEXTS = ["farm-1", "", " ", "é", "\u0000", "a" * 300, 5, 5.5, True, None, [], {}]
NUMBERS = [
    0,
    -0.0,
    24,
    24.5,
    -3.25,
    1e308,
    1e400,
    -1e400,
    12345678901234567890,
    "24.5",
    "NaN",
    "inf",
    True,
    None,
    [24.5],
]
INTEGERS = [1, 2, 0, -1, -7, -8, 120, 121, 2.0, 2.5, "2", True, False, None, 2**63, 2**64, 1e2]

CANDIDATES: dict[str, list[Any]] = {
    "schema_version": [1, 2, 0, 1.0, "1", True, None],
    "kind": ["reading", "house_status", "", None, 1],
    "event_id": TEXTS,
    "farm_id": TEXTS,
    "house_number": INTEGERS,
    "controller_id": TEXTS,
    "parameter": TEXTS,
    "source_key": TEXTS,
    "source_command": TEXTS,
    "value": NUMBERS,
    "unit": ["degC", "Pa", "kg", "L", "m3/h", "%", "ppm", "state", "degF", "DEGC", "", None, 1],
    "quality": ["good", "out_of_range", "bad", "", None, 1],
    "target": NUMBERS,
    "period": ["instant", "day", "hour", "", None],
    "growth_day": INTEGERS,
    "controller_time": ["06:30", "", "25:99", None, 630, True],
    "observed_at": DATETIMES,
    "fetched_at": DATETIMES,
}


def variants() -> list[tuple[str, bytes]]:
    """Return (label, JSON) pairs: each field set to each candidate, removed, or joined by an extra."""
    base = valid_document()
    cases = [("valid", json.dumps(base).encode())]

    for name, candidates in CANDIDATES.items():
        for candidate in candidates:
            document = {**base, name: candidate}
            cases.append((f"{name}={candidate!r}", json.dumps(document).encode()))
        document = {key: value for key, value in base.items() if key != name}
        cases.append((f"{name} missing", json.dumps(document).encode()))

    cases.append(("extra field", json.dumps({**base, "note": "x"}).encode()))
    cases.append(("spaced", json.dumps(base, indent=2).encode()))
    cases.append(("escaped text", json.dumps({**base, "farm_id": "f\u00e9"}, ensure_ascii=True).encode()))
    duplicate = json.dumps(base)[:-1] + ', "value": 30.0}'
    cases.append(("duplicate key", duplicate.encode()))

    compact = json.dumps(base, separators=(",", ":"))
    for fraction in (".5", ".123456", ".1234567", ".12345649", ".9999996"):
        stamp = f"2026-03-01T06:30:00{fraction}Z"
        for name in ("observed_at", "fetched_at"):
            document = {**base, name: stamp}
            cases.append((f"compact {name}={stamp}", json.dumps(document, separators=(",", ":")).encode()))
        twice = compact[:-1] + f',"fetched_at":"{stamp}"}}'
        cases.append((f"fetched_at twice, last {stamp}", twice.encode()))
        first = compact.replace('"fetched_at":"', f'"fetched_at":"{stamp}","fetched_at":"', 1)
        cases.append((f"fetched_at twice, first {stamp}", first.encode()))

    seven = "2026-03-01T06:30:00.1234567Z"
    for name in ("observed_at", "fetched_at"):
        # Seven digits that a byte scan misses: an escaped dot, or a last key spaced or escaped.
        escaped = compact.replace(
            f'"{name}":"2026-03-01T06:30:00', f'"{name}":"2026-03-01T06:30:00\\u002e1234567'
        )
        cases.append((f"{name} dot escaped", escaped.encode()))
        cases.append((f"{name} repeated spaced", (compact[:-1] + f', "{name}": "{seven}"}}').encode()))
        spelled = f"\\u{ord(name[0]):04x}{name[1:]}"
        cases.append((f"{name} repeated escaped", (compact[:-1] + f',"{spelled}":"{seven}"}}').encode()))

    cases.append(("array", b"[]"))
    cases.append(("truncated", json.dumps(base).encode()[:-5]))
    cases.append(("invalid UTF-8", json.dumps(base).encode().replace(b"farm-1", b"farm-\xff", 1)))
    cases.append(("trailing data", json.dumps(base).encode() + b" {}"))
    return cases


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return left == right and math.copysign(1, left) == math.copysign(1, right)
    if isinstance(left, datetime) and isinstance(right, datetime):
        return left == right and left.utcoffset() == right.utcoffset()
    return bool(type(left) is type(right) and left == right)


@pytest.mark.parametrize(("label", "payload"), variants(), ids=[label for label, _ in variants()])
def test_decoder_never_exceeds_schema(label: str, payload: bytes) -> None:
    decoded = decode_reading(payload)
    if decoded is None:
        return  # the schema's model decides, on the worker's fallback path
    try:
        model = Reading.model_validate_json(payload)
    except ValidationError as error:
        pytest.fail(f"{label}: the decoder accepted what the schema rejects: {error}")
    for name in Reading.model_fields:
        assert same(getattr(decoded, name), getattr(model, name)), f"{label}: {name} differs"


def test_serialized_reading_takes_fast_path() -> None:
    scraped = Reading.model_validate({**valid_document(), "fetched_at": AT.replace(microsecond=123456)})
    decoded = decode_reading(scraped.to_bytes())
    assert isinstance(decoded, DecodedReading)
    assert decoded.observed_at == AT
    assert decoded.target == 25.0
    assert decoded.growth_day == 12
    assert decoded.fetched_at == scraped.fetched_at
