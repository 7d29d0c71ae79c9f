"""Readings by time range: raw rows, buckets, filters, cursor pagination and 422 errors, on both lanes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pydantic_core
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import BaseModel

from api.models import BucketReadingsPage, LatestReadingPublic, LatestReadingsPublic, RawReadingsPage
from api.pagination import encode_cursor
from api.queries.readings import LATEST_READINGS_SQL, ReadingsFilter, build_readings_query
from tests.api.api_dataset import READING_STEPS, T0, expected_buckets
from tests.api.conftest import LaneDatabase

pytestmark = pytest.mark.integration

RANGE = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}
WIDTHS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


def _walk(client: TestClient, key: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Follow next_cursor from the first page to the last; return every row and the page count."""
    rows: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        query = dict(params)
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get("/readings", params=query, headers={"X-API-Key": key})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["data"])
        rows.extend(body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_raw_cursor_walk_returns_each_row_once(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    rows, pages = _walk(client, dataset.key_north, {**RANGE, "limit": 7})
    expected = {
        (row.observed_at, row.controller_id, row.parameter)
        for row in dataset.readings
        if row.farm_id == dataset.north and row.period == "instant"
    }
    keys = [(_time(row["observed_at"]), row["controller_id"], row["parameter"]) for row in rows]
    assert len(keys) == len(expected)
    assert set(keys) == expected
    assert keys == sorted(keys)
    assert pages == -(-len(expected) // 7)


def test_raw_rows_carry_every_column(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    params = {**RANGE, "house_number": 1, "parameter": "static_pressure", "limit": 100}
    body = client.get("/readings", params=params, headers={"X-API-Key": dataset.key_north}).json()
    expected = {
        row.observed_at: row
        for row in dataset.readings
        if row.controller_id == dataset.controller(dataset.north, 1) and row.parameter == "static_pressure"
    }
    assert body["bucket"] == "raw"
    assert body["count"] == len(expected)
    for item in body["data"]:
        reading = expected[_time(item["observed_at"])]
        assert item["value"] == reading.value
        assert item["target"] == reading.target
        assert item["quality"] == reading.quality
        assert item["unit"] == "Pa"
        assert item["period"] == "instant"
        assert item["growth_day"] == 21


@pytest.mark.parametrize("bucket", ["5m", "1h", "1d"])
def test_bucket_walk_matches_aggregates(client: TestClient, lane_database: LaneDatabase, bucket: str) -> None:
    dataset = lane_database.dataset
    rows, _ = _walk(client, dataset.key_all, {**RANGE, "bucket": bucket, "limit": 5})
    expected = expected_buckets(dataset.readings, WIDTHS[bucket])
    assert len(rows) == len(expected)
    for row in rows:
        assert row.keys() >= {"bucket", "value_avg", "value_min", "value_max", "value_count", "target_avg"}
        want = expected[(_time(row["bucket"]), row["controller_id"], row["parameter"])]
        assert row["value_avg"] == pytest.approx(want["value_avg"])
        assert row["value_min"] == want["value_min"]
        assert row["value_max"] == want["value_max"]
        assert row["value_count"] == want["value_count"]
        if want["target_avg"] is None:
            assert row["target_avg"] is None
        else:
            assert row["target_avg"] == pytest.approx(want["target_avg"])


def test_repeated_parameter_filter(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    params = [
        ("from", RANGE["from"]),
        ("to", RANGE["to"]),
        ("parameter", "humidity.inside"),
        ("parameter", "static_pressure"),
        ("bucket", "1h"),
        ("limit", 1000),
    ]
    body = client.get("/readings", params=params, headers={"X-API-Key": dataset.key_north}).json()
    assert {row["parameter"] for row in body["data"]} == {"humidity.inside", "static_pressure"}
    assert body["count"] == 2 * 6


def test_house_and_controller_filters(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_all}
    by_house = client.get(
        "/readings",
        params={**RANGE, "farm_id": dataset.north, "house_number": 2, "limit": 1000},
        headers=headers,
    ).json()
    assert {row["controller_id"] for row in by_house["data"]} == {dataset.controller(dataset.north, 2)}
    assert by_house["count"] == READING_STEPS
    controller = dataset.controller(dataset.south, 1)
    by_controller = client.get(
        "/readings", params={**RANGE, "controller_id": controller, "limit": 1000}, headers=headers
    ).json()
    assert {row["controller_id"] for row in by_controller["data"]} == {controller}


def test_time_range_is_half_open(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    params = {
        "from": (T0 + timedelta(minutes=10)).isoformat(),
        "to": (T0 + timedelta(minutes=20)).isoformat(),
        "house_number": 2,
    }
    body = client.get("/readings", params=params, headers={"X-API-Key": dataset.key_north}).json()
    assert [_time(row["observed_at"]) for row in body["data"]] == [
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=15),
    ]


def test_daily_rows_need_period_day(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    body = client.get(
        "/readings", params={**RANGE, "period": "day"}, headers={"X-API-Key": dataset.key_north}
    ).json()
    assert [(row["parameter"], row["value"], row["period"]) for row in body["data"]] == [
        ("water.daily", 5400.0, "day")
    ]


def _error_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    return str(detail[0]["loc"][-1])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": RANGE["to"]}, "from"),
        ({"from": RANGE["from"]}, "to"),
        ({"from": "2026-03-02T00:00:00", "to": RANGE["to"]}, "from"),
        ({"from": "yesterday", "to": RANGE["to"]}, "from"),
        ({**RANGE, "bucket": "10m"}, "bucket"),
        ({**RANGE, "period": "week"}, "period"),
        ({"from": RANGE["to"], "to": RANGE["from"]}, "to"),
        ({"from": "2026-03-01T00:00:00Z", "to": "2026-03-20T00:00:00Z"}, "to"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-03-20T00:00:00Z", "bucket": "1h"}, "to"),
        ({**RANGE, "limit": 0}, "limit"),
        ({**RANGE, "limit": 5001}, "limit"),
        ({**RANGE, "house_number": 0}, "house_number"),
        ({**RANGE, "bucket": "1h", "period": "day"}, "period"),
        ({**RANGE, "cursor": "%%%"}, "cursor"),
        ({**RANGE, "cursor": "bm90LWpzb24"}, "cursor"),
    ],
)
def test_invalid_parameter_is_422_naming_field(
    client: TestClient, lane_database: LaneDatabase, params: dict[str, Any], field: str
) -> None:
    response = client.get("/readings", params=params, headers={"X-API-Key": lane_database.dataset.key_north})
    assert _error_field(response) == field


def test_cursor_of_other_bucket_is_422(client: TestClient, lane_database: LaneDatabase) -> None:
    cursor = encode_cursor("readings:1h:instant", (T0, "x/house-1", "temperature.average"))
    response = client.get(
        "/readings",
        params={**RANGE, "cursor": cursor},
        headers={"X-API-Key": lane_database.dataset.key_north},
    )
    assert _error_field(response) == "cursor"
    assert "restart without a cursor" in response.json()["detail"][0]["msg"]


def test_too_many_parameters_is_422(client: TestClient, lane_database: LaneDatabase) -> None:
    params = [("from", RANGE["from"]), ("to", RANGE["to"])] + [("parameter", f"p{i}") for i in range(101)]
    response = client.get("/readings", params=params, headers={"X-API-Key": lane_database.dataset.key_north})
    assert _error_field(response) == "parameter"


def test_page_size_limit_is_a_setting(api_client: Any, lane_database: LaneDatabase) -> None:
    with api_client(api_page_size_max=10, api_page_size_default=10) as client:
        headers = {"X-API-Key": lane_database.dataset.key_north}
        assert (
            _error_field(client.get("/readings", params={**RANGE, "limit": 11}, headers=headers)) == "limit"
        )
        body = client.get("/readings", params=RANGE, headers=headers).json()
        assert body["count"] == 10
        assert body["next_cursor"] is not None


@pytest.mark.parametrize(
    ("params", "page_model"),
    [
        ({**RANGE, "period": "instant"}, RawReadingsPage),
        ({**RANGE, "period": "day"}, RawReadingsPage),
        ({**RANGE, "bucket": "5m"}, BucketReadingsPage),
        ({**RANGE, "bucket": "1h"}, BucketReadingsPage),
        ({**RANGE, "bucket": "1d"}, BucketReadingsPage),
    ],
)
def test_readings_rows_match_response_model(
    client: TestClient, lane_database: LaneDatabase, params: dict[str, str], page_model: type[BaseModel]
) -> None:
    # The readings routes serialize query rows without validating them, so the rows must have
    # exactly the model's fields and types.
    body = client.get(
        "/readings", params=params, headers={"X-API-Key": lane_database.dataset.key_north}
    ).json()
    assert body["count"] > 0
    row_model = page_model.model_fields["data"].annotation.__args__[0]  # type: ignore[union-attr]
    for row in body["data"]:
        assert list(row) == list(row_model.model_fields)
    assert page_model.model_validate(body).model_dump(mode="json") == body


def test_latest_rows_match_response_model(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    path = f"/farms/{dataset.north}/houses/1/readings/latest"
    body = client.get(path, headers={"X-API-Key": dataset.key_north}).json()
    assert body["count"] > 0
    for row in body["data"]:
        assert list(row) == list(LatestReadingPublic.model_fields)
    assert LatestReadingsPublic.model_validate(body).model_dump(mode="json") == body


def _text_rows(url: str, statement: sql.Composed | str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Return rows fetched in PostgreSQL's text format, the reference for the routes' binary rows."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        with connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(statement, values)
            return cursor.fetchall()


@pytest.mark.parametrize("bucket", ["raw", "1h"])
def test_binary_rows_write_same_page(api_client: Any, lane_database: LaneDatabase, bucket: str) -> None:
    # The routes fetch binary results; the body must be byte for byte what text results give.
    dataset = lane_database.dataset
    start, end = _time(RANGE["from"]), _time(RANGE["to"])
    query = ReadingsFilter(farm_ids=[dataset.north], start=start, end=end, bucket=bucket)
    statement, values = build_readings_query(query, None, None)
    rows = _text_rows(lane_database.url, statement, values)
    params = {**RANGE, "bucket": bucket, "farm_id": dataset.north, "limit": 5000}
    with api_client() as client:
        response = client.get("/readings", params=params, headers={"X-API-Key": dataset.key_north})
    assert response.status_code == 200, response.text
    assert len(rows) > 0
    expected = {"bucket": bucket, "data": rows, "count": len(rows), "next_cursor": None}
    assert response.content == pydantic_core.to_json(expected)


def test_binary_latest_write_same_page(api_client: Any, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    values = {"farm": dataset.north, "house": 1, "window": timedelta(minutes=60)}
    rows = _text_rows(lane_database.url, LATEST_READINGS_SQL, values)
    with api_client() as client:
        path = f"/farms/{dataset.north}/houses/1/readings/latest"
        response = client.get(path, headers={"X-API-Key": dataset.key_north})
    assert response.status_code == 200, response.text
    assert len(rows) > 0
    expected = {"farm_id": dataset.north, "house_number": 1, "data": rows, "count": len(rows)}
    assert response.content == pydantic_core.to_json(expected)
