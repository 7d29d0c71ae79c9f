"""Integration tests of the database writes on plain PostgreSQL (COPY and INSERT paths) and on
TimescaleDB in PGlite (INSERT path): idempotence, alert ordering and isolation of rejected rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from schemas.events import Reading
from sinks.batch import DatabaseWriter
from sinks.records import DecodedRecord, SinkEvent, SourceRecord
from tests.sinks.sink_events import (
    alert,
    failure_prediction,
    house_status,
    reading,
    recommendation,
    scrape_log,
)

pytestmark = pytest.mark.integration

LANES = [("postgres", "copy"), ("postgres", "insert"), ("timescaledb", "auto")]


@pytest.fixture(params=LANES, ids=["plain-copy", "plain-insert", "timescale-auto"])
def writer_and_url(
    request: pytest.FixtureRequest, migrated_database_url: str
) -> Iterator[tuple[DatabaseWriter, str]]:
    lane, mode = request.param
    url = migrated_database_url if lane == "postgres" else request.getfixturevalue("timescale_database_url")
    writer = DatabaseWriter(lambda: psycopg.connect(url), mode)
    yield writer, url
    writer.close()


def _records(events: list[SinkEvent]) -> list[DecodedRecord]:
    return [
        DecodedRecord(SourceRecord("t.readings", 0, offset, None, event.to_bytes()), event)
        for offset, event in enumerate(events)
    ]


def _query(writer: DatabaseWriter, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    # The writer's own connection: PGlite serves one connection at a time.
    connection = writer.connection()
    with connection.transaction():
        return list(connection.execute(statement.encode(), params).fetchall())


def _farm() -> str:
    return f"farm-{uuid.uuid4().hex[:10]}"


def test_readings_written_once(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    events: list[SinkEvent] = [reading(farm, house, step) for house in (1, 2) for step in range(50)]
    events.append(reading(farm, 1, 0))  # the same reading twice in one batch

    first = writer.write_batch(_records(events))
    second = writer.write_batch(_records(events))

    assert first.rows["readings"] == 100
    assert second.rows["readings"] == 0
    assert first.rejected == []
    assert _query(writer, "SELECT count(*) FROM readings WHERE farm_id = %s", farm) == [(100,)]
    assert _query(writer, "SELECT house_number FROM houses WHERE farm_id = %s ORDER BY 1", farm) == [
        (1,),
        (2,),
    ]
    latest = _query(
        writer, "SELECT last_reading_at FROM controllers WHERE controller_id = %s", f"{farm}/house-1"
    )
    assert latest == [(reading(farm, 1, 49).observed_at,)]
    counts = _query(
        writer, "SELECT sum(value_count) FROM readings_5m WHERE farm_id = %s AND house_number = 1", farm
    )
    assert counts == [(50,)]


def test_house_status_updates_controller(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    newest = house_status(farm, 1, 3, status="offline")
    older = house_status(farm, 1, 1, status="connected")

    writer.write_batch(_records([newest]))
    writer.write_batch(_records([older, newest]))

    controller = _query(
        writer,
        "SELECT connection_status, last_status_at FROM controllers WHERE controller_id = %s",
        f"{farm}/house-1",
    )
    assert controller == [("offline", newest.observed_at)]
    assert _query(writer, "SELECT count(*) FROM house_status WHERE farm_id = %s", farm) == [(2,)]
    alarms = _query(writer, "SELECT alarm_codes FROM house_status WHERE event_id = %s", newest.event_id)
    assert alarms == [(["HIGH TEMP"],)]


def test_missing_status_written(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    listed = house_status(farm, 3, 0)
    missing = house_status(farm, 3, 1, status="missing")

    first = writer.write_batch(_records([listed, missing]))
    writer.write_batch(_records([missing]))  # a redelivery adds no row

    assert first.rejected == []
    rows = _query(
        writer,
        "SELECT connection_status FROM house_status WHERE farm_id = %s ORDER BY observed_at",
        farm,
    )
    assert rows == [("connected",), ("missing",)]
    controller = _query(
        writer, "SELECT connection_status FROM controllers WHERE controller_id = %s", f"{farm}/house-3"
    )
    assert controller == [("missing",)]


def test_alert_never_moves_backwards(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()

    writer.write_batch(_records([alert(farm, 1, 0, "open"), alert(farm, 1, 2, "resolved")]))
    writer.write_batch(_records([alert(farm, 1, 1, "reminder"), alert(farm, 1, 0, "open")]))

    rows = _query(
        writer, "SELECT state, last_sequence, severity, resolved_at FROM alerts WHERE farm_id = %s", farm
    )
    assert rows == [("resolved", 2, "critical", alert(farm, 1, 2, "resolved").resolved_at)]
    history = _query(
        writer,
        "SELECT sequence, state FROM alert_events WHERE alert_id = %s ORDER BY 1",
        rows and alert(farm, 1, 0, "open").alert_id,
    )
    assert history == [(0, "open"), (1, "reminder"), (2, "resolved")]


def test_predictions_and_logs_upserted(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    events: list[SinkEvent] = [
        failure_prediction(farm, 1, 1),
        recommendation(farm, 2, 1),
        scrape_log(farm, 1),
        scrape_log(farm, 2),
    ]

    writer.write_batch(_records(events))
    writer.write_batch(_records(events))

    kinds = _query(
        writer, "SELECT kind, house_number FROM predictions WHERE farm_id = %s ORDER BY kind", farm
    )
    assert kinds == [("failure_prediction", 1), ("recommendation", 2)]
    assert _query(writer, "SELECT count(*) FROM scrape_logs WHERE farm_id = %s", farm) == [(2,)]


def test_rejected_row_isolated(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    good = [reading(farm, 1, step) for step in range(20)]
    # Valid for the event schema, but beyond the range of the int column house_number.
    bad = reading(farm, 1, 100).model_copy(
        update={"house_number": 2**31, "controller_id": f"{farm}/house-big"}
    )
    assert isinstance(bad, Reading)
    events: list[SinkEvent] = [*good[:7], bad, *good[7:]]

    outcome = writer.write_batch(_records(events))

    assert [item.source.offset for item in outcome.rejected] == [7]
    assert outcome.rejected[0].error_type in {"NumericValueOutOfRange", "DataError"}
    assert outcome.rows["readings"] == 20
    assert _query(writer, "SELECT count(*) FROM readings WHERE farm_id = %s", farm) == [(20,)]


_LATEST = (
    "SELECT parameter, observed_at, value, growth_day FROM latest_readings"
    " WHERE farm_id = %s AND house_number = %s ORDER BY parameter"
)


def _daily(farm: str, house: int, step: int) -> Reading:
    instant = reading(farm, house, step, parameter="water.daily", value=5000.0)
    daily = instant.model_copy(
        update={
            "period": "day",
            "unit": "L",
            "event_id": Reading.make_id(instant.controller_id, "water.daily", "day", instant.observed_at),
        }
    )
    assert isinstance(daily, Reading)
    return daily


def test_latest_keeps_newest_across_batches(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    first: list[SinkEvent] = [
        reading(farm, 1, step, parameter=parameter)
        for step in range(5)
        for parameter in ("temperature.average", "humidity.inside")
    ]
    # Newest first within the batch: the walk must still keep step 6.
    second: list[SinkEvent] = [reading(farm, 1, step) for step in (6, 5)]

    outcome = writer.write_batch(_records(first))
    writer.write_batch(_records(second))

    assert outcome.rows["latest_readings"] == 2
    humidity, temperature = reading(farm, 1, 4, parameter="humidity.inside"), reading(farm, 1, 6)
    assert _query(writer, _LATEST, farm, 1) == [
        ("humidity.inside", humidity.observed_at, humidity.value, 21),
        ("temperature.average", temperature.observed_at, temperature.value, 21),
    ]


def test_older_redelivery_keeps_latest(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    newer = reading(farm, 2, 8)
    # Not stored yet, so it enters readings, but it is older than the latest value.
    older = reading(farm, 2, 3)

    writer.write_batch(_records([newer]))
    late = writer.write_batch(_records([older]))

    assert late.rows["readings"] == 1
    assert late.rows["latest_readings"] == 0
    assert _query(writer, _LATEST, farm, 2) == [("temperature.average", newer.observed_at, newer.value, 21)]


def test_replayed_batch_changes_no_latest(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    newest = reading(farm, 1, 3, value=30.0)
    events: list[SinkEvent] = [reading(farm, 1, step, value=30.0) for step in range(3)] + [newest]

    first = writer.write_batch(_records(events))
    stored = _query(writer, _LATEST, farm, 1)
    replay = writer.write_batch(_records(events))

    assert first.rows["latest_readings"] == 1
    assert replay.rows["latest_readings"] == 0
    assert _query(writer, _LATEST, farm, 1) == stored
    assert stored == [("temperature.average", newest.observed_at, newest.value, 21)]


def test_daily_readings_stay_out_of_latest(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    instant = reading(farm, 1, 0)
    # Later than the instant reading, so only the period check keeps it out.
    events: list[SinkEvent] = [instant, _daily(farm, 1, 5), _daily(farm, 2, 5)]

    outcome = writer.write_batch(_records(events))

    assert outcome.rows["readings"] == 3
    assert _query(writer, _LATEST, farm, 1) == [
        ("temperature.average", instant.observed_at, instant.value, 21)
    ]
    assert _query(writer, _LATEST, farm, 2) == []


def _co2_at(current: Reading, observed: datetime) -> Reading:
    """Return a co2 reading of the same controller at another time."""
    return current.model_copy(
        update={
            "observed_at": observed,
            "parameter": "co2",
            "unit": "ppm",
            "event_id": Reading.make_id(current.controller_id, "co2", "instant", observed),
        }
    )


def test_retention_drops_stale_latest(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    # Far older than any other test's rows, which share the TimescaleDB lane's database.
    observed = datetime.now(UTC) - timedelta(days=4000)
    current = reading(farm, 1, 0)
    writer.write_batch(_records([_co2_at(current, observed), current]))

    writer.drop_old_readings(retain_days=3650)

    assert _query(writer, "SELECT parameter FROM latest_readings WHERE farm_id = %s", farm) == [
        ("temperature.average",)
    ]


def test_latest_retention_follows_readings(writer_and_url: tuple[DatabaseWriter, str]) -> None:
    writer, _url = writer_and_url
    farm = _farm()
    # A minute past the cutoff: TimescaleDB drops whole chunks, so its chunk most likely stays.
    observed = datetime.now(UTC) - timedelta(days=3650, minutes=1)
    current = reading(farm, 1, 0)
    writer.write_batch(_records([_co2_at(current, observed), current]))

    writer.drop_old_readings(retain_days=3650)

    stored = "SELECT DISTINCT parameter FROM readings WHERE farm_id = %s AND period = 'instant' ORDER BY 1"
    latest = "SELECT parameter FROM latest_readings WHERE farm_id = %s ORDER BY 1"
    assert _query(writer, latest, farm) == _query(writer, stored, farm)
