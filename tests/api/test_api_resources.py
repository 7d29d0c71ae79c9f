"""Farms, houses, controllers and latest readings, against the real database on both lanes."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.keys import create_key
from tests.api.conftest import LaneDatabase

pytestmark = pytest.mark.integration


def test_farms_list_and_detail(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_all}
    body = client.get("/farms", headers=headers).json()
    assert body["count"] == 3
    assert [farm["farm_id"] for farm in body["data"]] == sorted([dataset.north, dataset.south, dataset.east])
    farm = client.get(f"/farms/{dataset.north}", headers=headers).json()
    assert farm["farm_id"] == dataset.north
    assert farm["name"] == dataset.north.title()


def test_houses_filtered_by_farm(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_all}
    body = client.get("/houses", params={"farm_id": dataset.north}, headers=headers).json()
    assert [(house["farm_id"], house["house_number"]) for house in body["data"]] == [
        (dataset.north, 1),
        (dataset.north, 2),
    ]
    assert body["count"] == 2
    house = client.get(f"/farms/{dataset.north}/houses/2", headers=headers).json()
    assert house == {"farm_id": dataset.north, "house_number": 2, "name": "House 2"}


def test_controllers_filtered_by_house(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_all}
    body = client.get(
        "/controllers", params={"farm_id": dataset.north, "house_number": 2}, headers=headers
    ).json()
    assert [controller["controller_id"] for controller in body["data"]] == [
        dataset.controller(dataset.north, 2)
    ]
    single = client.get(f"/controllers/{dataset.controller(dataset.north, 1)}", headers=headers).json()
    assert single["house_number"] == 1
    assert single["connection_status"] == "connected"
    assert single["controller_time"] == "06:00"


def test_latest_readings_per_parameter(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    response = client.get(
        f"/farms/{dataset.north}/houses/1/readings/latest", headers={"X-API-Key": dataset.key_north}
    )
    assert response.status_code == 200
    body = response.json()
    instant = [
        row
        for row in dataset.readings
        if row.farm_id == dataset.north and row.house_number == 1 and row.period == "instant"
    ]
    expected = {}
    for row in instant:
        if row.parameter not in expected or row.observed_at > expected[row.parameter].observed_at:
            expected[row.parameter] = row
    assert body["count"] == len(expected)
    assert {item["parameter"] for item in body["data"]} == set(expected)
    for item in body["data"]:
        reading = expected[item["parameter"]]
        assert item["value"] == reading.value
        assert item["target"] == reading.target
        assert item["observed_at"] == reading.observed_at.isoformat().replace("+00:00", "Z")


def test_latest_readings_need_house_row(api_client: Any, lane_database: LaneDatabase) -> None:
    # House 1 has no readings; house 2 has readings but no row in houses, so it is not found.
    farm = f"latest-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(lane_database.url, autocommit=True) as connection:
        connection.execute("INSERT INTO farms (farm_id, name) VALUES (%s, 'Latest farm')", (farm,))
        connection.execute(
            "INSERT INTO houses (farm_id, house_number, name) VALUES (%s, 1, 'House 1')", (farm,)
        )
        connection.execute(
            "INSERT INTO readings (observed_at, controller_id, farm_id, house_number, parameter, period,"
            " value, unit, quality) VALUES ('2026-03-02T00:00:00Z', %s, %s, 2, 'static_pressure', 'instant',"
            " 20.0, 'Pa', 'good')",
            (f"{farm}/house-2", farm),
        )
        _, key = create_key(connection, "latest test", [farm])
    with api_client() as client:
        empty = client.get(f"/farms/{farm}/houses/1/readings/latest", headers={"X-API-Key": key})
        orphan = client.get(f"/farms/{farm}/houses/2/readings/latest", headers={"X-API-Key": key})
    assert empty.status_code == 200
    assert empty.json() == {"farm_id": farm, "house_number": 1, "data": [], "count": 0}
    assert orphan.status_code == 404
    assert orphan.json() == {"detail": "house not found"}
