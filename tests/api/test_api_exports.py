"""CSV exports of readings and alerts, streamed, on both lanes."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.api_dataset import INSERT_READING, T0, AlertRow, expected_buckets, insert_alert
from tests.api.conftest import ClientFactory, LaneDatabase

pytestmark = pytest.mark.integration

RANGE = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_readings_csv_has_every_row(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    response = client.get("/exports/readings.csv", params=RANGE, headers={"X-API-Key": dataset.key_north})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response.text)
    expected = {
        (row.observed_at, row.controller_id, row.parameter): row
        for row in dataset.readings
        if row.farm_id == dataset.north and row.period == "instant"
    }
    assert len(rows) == len(expected)
    for row in rows:
        reading = expected[
            (datetime.fromisoformat(row["observed_at"]), row["controller_id"], row["parameter"])
        ]
        assert float(row["value"]) == reading.value
        assert row["quality"] == reading.quality
        assert row["target"] == ("" if reading.target is None else repr(reading.target))


def test_readings_csv_in_hour_buckets(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    response = client.get(
        "/exports/readings.csv",
        params={**RANGE, "bucket": "1h", "parameter": "temperature.average"},
        headers={"X-API-Key": dataset.key_all},
    )
    rows = _rows(response.text)
    expected = {
        key: value
        for key, value in expected_buckets(dataset.readings, timedelta(hours=1)).items()
        if key[2] == "temperature.average"
    }
    assert len(rows) == len(expected)
    for row in rows:
        want = expected[(datetime.fromisoformat(row["bucket"]), row["controller_id"], row["parameter"])]
        assert int(row["value_count"]) == want["value_count"]
        assert float(row["value_avg"]) == pytest.approx(want["value_avg"])


def test_readings_csv_validates_like_list(client: TestClient, lane_database: LaneDatabase) -> None:
    headers = {"X-API-Key": lane_database.dataset.key_north}
    too_long = client.get(
        "/exports/readings.csv", params={"from": "2026-01-01T00:00:00Z", "to": RANGE["to"]}, headers=headers
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "to"]
    outside = client.get(
        "/exports/readings.csv", params={**RANGE, "farm_id": lane_database.dataset.south}, headers=headers
    )
    assert outside.status_code == 403
    assert client.get("/exports/readings.csv", params=RANGE).status_code == 401


def test_alerts_csv_matches_filters(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    response = client.get(
        "/exports/alerts.csv",
        params={"farm_id": dataset.north, "state": "open"},
        headers={"X-API-Key": dataset.key_all},
    )
    assert response.status_code == 200
    rows = _rows(response.text)
    expected = [a for a in dataset.alerts if a.farm_id == dataset.north and a.state == "open"]
    assert sorted(row["alert_id"] for row in rows) == sorted(a.alert_id for a in expected)
    assert {row["state"] for row in rows} == {"open"}
    assert all(row["evidence"].startswith("{") for row in rows)


def test_alerts_csv_neutralises_formulas(api_client: ClientFactory, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    alert = AlertRow(
        alert_id=str(uuid.uuid4()),
        farm_id=dataset.east,
        house_number=1,
        rule="temperature_off_target",
        severity="warning",
        state="resolved",
        opened_at=T0 + timedelta(days=30),
    )
    hostile = {
        "title": '=HYPERLINK("http://127.0.0.1/","x")',
        "message": "+1+1",
        "acknowledged_by": "@SUM(A1)",
        "resolved_by": "-2+3",
        "subject": "\tcmd",
        "rule": "\rcmd",
    }
    with psycopg.connect(lane_database.url, autocommit=True, prepare_threshold=None) as connection:
        insert_alert(connection, alert)
        connection.execute(
            "UPDATE alerts SET title = %(title)s, message = %(message)s,"
            " acknowledged_by = %(acknowledged_by)s, resolved_by = %(resolved_by)s,"
            " subject = %(subject)s, rule = %(rule)s"
            " WHERE alert_id = %(alert_id)s",
            {**hostile, "alert_id": alert.alert_id},
        )
    with api_client() as client:
        response = client.get(
            "/exports/alerts.csv", params={"farm_id": dataset.east}, headers={"X-API-Key": dataset.key_all}
        )
    assert response.status_code == 200
    (row,) = [row for row in _rows(response.text) if row["alert_id"] == alert.alert_id]
    for column, value in hostile.items():
        assert row[column] == "'" + value, column
    assert row["evidence"].startswith("{")
    assert row["opened_at"] == alert.opened_at.isoformat()


def test_readings_csv_neutralises_formulas(api_client: ClientFactory, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    observed_at = T0 + timedelta(days=40)
    hostile = {"parameter": "-cmd|' /C calc'!A0", "unit": "@SUM(1)"}
    with psycopg.connect(lane_database.url, autocommit=True, prepare_threshold=None) as connection:
        connection.execute(
            INSERT_READING,
            (
                observed_at,
                dataset.controller(dataset.east, 1),
                dataset.east,
                1,
                hostile["parameter"],
                "instant",
                -4.5,
                hostile["unit"],
                "good",
                None,
                None,
                "hostile",
                "hostile",
                observed_at,
                str(uuid.uuid4()),
            ),
        )
    with api_client() as client:
        response = client.get(
            "/exports/readings.csv",
            params={
                "from": observed_at.isoformat(),
                "to": (observed_at + timedelta(minutes=1)).isoformat(),
                "farm_id": dataset.east,
            },
            headers={"X-API-Key": dataset.key_all},
        )
    assert response.status_code == 200, response.text
    (row,) = _rows(response.text)
    for column, value in hostile.items():
        assert row[column] == "'" + value, column
    assert row["value"] == "-4.5"
    assert row["quality"] == "good"
