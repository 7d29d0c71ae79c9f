"""Unit tests of the event models and the checked-in JSON Schema files (no broker, no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas.events import (
    Alert,
    HouseStatus,
    Reading,
    controller_id_for,
    readings_key,
    readings_topic_adapter,
)
from schemas.generate import SCHEMA_DIR, render_schemas
from schemas.parameters import PARAMETERS, get_parameter
from schemas.topics import ALL_TOPICS, READINGS, topic_name

NOW = datetime(2026, 4, 24, 12, 23, tzinfo=UTC)


def _reading(**overrides: object) -> Reading:
    controller = controller_id_for("farm-a", 1)
    fields: dict[str, object] = {
        "event_id": Reading.make_id(controller, "temperature.average", "instant", NOW),
        "farm_id": "farm-a",
        "house_number": 1,
        "controller_id": controller,
        "parameter": "temperature.average",
        "source_key": "General.Average_Temperature",
        "source_command": "RNBL_GetCommandData/0",
        "value": 29.71,
        "unit": "degC",
        "target": 27.65,
        "growth_day": 21,
        "controller_time": "12:23",
        "observed_at": NOW,
        "fetched_at": NOW,
    }
    fields.update(overrides)
    return Reading.model_validate(fields)


def test_json_schema_files_are_current() -> None:
    rendered = render_schemas()
    on_disk = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.schema.json")}
    assert set(on_disk) == set(rendered), "run python -m schemas.generate"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} is stale: run python -m schemas.generate"


def test_reading_round_trip_through_topic_adapter() -> None:
    reading = _reading()
    parsed = readings_topic_adapter.validate_json(reading.to_bytes())
    assert parsed == reading
    assert isinstance(parsed, Reading)


def test_house_status_parses_from_readings_topic() -> None:
    status = HouseStatus(
        event_id=HouseStatus.make_id("farm-a/house-2", NOW),
        farm_id="farm-a",
        house_number=2,
        controller_id="farm-a/house-2",
        connection_status="disconnected",
        readings_published=0,
        observed_at=NOW,
        fetched_at=NOW,
    )
    assert isinstance(readings_topic_adapter.validate_json(status.to_bytes()), HouseStatus)


def test_missing_status_round_trips() -> None:
    fields: dict[str, object] = {
        "event_id": HouseStatus.make_id("farm-a/house-3", NOW),
        "farm_id": "farm-a",
        "house_number": 3,
        "controller_id": "farm-a/house-3",
        "connection_status": "missing",
        "readings_published": 0,
        "observed_at": NOW,
        "fetched_at": NOW,
    }
    status = HouseStatus.model_validate(fields)
    parsed = readings_topic_adapter.validate_json(status.to_bytes())
    assert isinstance(parsed, HouseStatus)
    assert parsed.connection_status == "missing"
    with pytest.raises(ValidationError, match="connection_status"):
        HouseStatus.model_validate({**fields, "connection_status": "lost"})


def test_reading_rejects_naive_timestamp() -> None:
    with pytest.raises(ValidationError, match="observed_at"):
        _reading(observed_at=datetime(2026, 4, 24, 12, 23))


@pytest.mark.parametrize("field", ["value", "target"])
@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_reading_rejects_non_finite_number(field: str, number: float) -> None:
    with pytest.raises(ValidationError, match=field):
        _reading(**{field: number})


def test_reading_rejects_unknown_unit() -> None:
    with pytest.raises(ValidationError, match="unit"):
        _reading(unit="degF")


def test_reading_rejects_extra_field() -> None:
    with pytest.raises(ValidationError, match="colour"):
        _reading(colour="red")


def test_event_ids_are_deterministic() -> None:
    first = Reading.make_id("farm-a/house-1", "temperature.average", "instant", NOW)
    second = Reading.make_id("farm-a/house-1", "temperature.average", "instant", NOW)
    other = Reading.make_id("farm-a/house-1", "temperature.average", "day", NOW)
    assert first == second
    assert first != other


def test_alert_ids_differ_by_episode() -> None:
    first = Alert.make_alert_id("farm-a", 1, "temperature.average", "temperature_off_target", NOW)
    later = Alert.make_alert_id(
        "farm-a", 1, "temperature.average", "temperature_off_target", NOW.replace(hour=13)
    )
    assert first != later
    assert Alert.make_event_id(first, 0) != Alert.make_event_id(first, 1)


def test_readings_key_keeps_house_together() -> None:
    assert readings_key("farm-a", 3) == b"farm-a/3"
    assert readings_key("farm-a", None) == b"farm-a/-"


def test_topic_names_use_prefix() -> None:
    assert topic_name(READINGS) == "farmstream.readings"
    assert topic_name(READINGS, "test-1.") == "test-1.readings"
    assert len({spec.suffix for spec in ALL_TOPICS}) == len(ALL_TOPICS)


def test_parameter_catalogue_lookup() -> None:
    assert get_parameter("static_pressure").unit == "Pa"
    assert "temperature.sensor_36" in PARAMETERS
    with pytest.raises(KeyError, match=r"no\.such"):
        get_parameter("no.such")


def test_event_id_ignores_utc_offset() -> None:
    chicago = NOW.astimezone(timezone(timedelta(hours=-5)))

    assert Reading.make_id("farm-a/house-1", "temperature.average", "instant", chicago) == Reading.make_id(
        "farm-a/house-1", "temperature.average", "instant", NOW
    )
