"""Integration tests of the database writes on plain PostgreSQL (COPY and INSERT paths) and on
TimescaleDB in PGlite (INSERT path): idempotence, alert ordering and isolation of rejected rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
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
