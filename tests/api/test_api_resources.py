"""Farms, houses, controllers and latest readings, against the real database on both lanes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.keys import create_key
from schemas.events import Period, Reading, controller_id_for
from schemas.parameters import PARAMETERS
from sinks.writers import write_readings
from tests.api.api_dataset import T0, ReadingRow, insert_latest
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
        orphan_row = ReadingRow(
            T0, f"{farm}/house-2", farm, 2, "static_pressure", "instant", 20.0, "Pa", "good", None
        )
        connection.execute(
            "INSERT INTO readings (observed_at, controller_id, farm_id, house_number, parameter, period,"
            " value, unit, quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            dataclasses.astuple(orphan_row)[:-1],
        )
        insert_latest(connection, [orphan_row])
        _, key = create_key(connection, "latest test", [farm])
    with api_client() as client:
        empty = client.get(f"/farms/{farm}/houses/1/readings/latest", headers={"X-API-Key": key})
        orphan = client.get(f"/farms/{farm}/houses/2/readings/latest", headers={"X-API-Key": key})
    assert empty.status_code == 200
    assert empty.json() == {"farm_id": farm, "house_number": 1, "data": [], "count": 0}
    assert orphan.status_code == 404
    assert orphan.json() == {"detail": "house not found"}


# The endpoint's query before latest_readings existed, kept as the reference of its results.
REFERENCE_LATEST_SQL = """
    WITH newest AS (
        SELECT max(observed_at) AS observed_at FROM readings
        WHERE farm_id = %(farm)s AND house_number = %(house)s AND period = 'instant'
    )
    SELECT DISTINCT ON (r.controller_id, r.parameter) r.parameter, r.value, r.observed_at
    FROM readings AS r, newest
    WHERE r.farm_id = %(farm)s AND r.house_number = %(house)s AND r.period = 'instant'
        AND r.observed_at > newest.observed_at - %(window)s
    ORDER BY r.controller_id, r.parameter, r.observed_at DESC
"""


def _sink_reading(
    farm: str, parameter: str, minutes: int, value: float, period: Period = "instant"
) -> Reading:
    controller = controller_id_for(farm, 1)
    observed = T0 + timedelta(minutes=minutes)
    return Reading(
        event_id=Reading.make_id(controller, parameter, period, observed),
        farm_id=farm,
        house_number=1,
        controller_id=controller,
        parameter=parameter,
        source_key="Test.Key",
        source_command="RNBL_GetCommandData/0",
        period=period,
        value=value,
        unit=PARAMETERS[parameter].unit,
        observed_at=observed,
        fetched_at=observed + timedelta(seconds=30),
    )


def test_latest_matches_replaced_query(api_client: Any, lane_database: LaneDatabase) -> None:
    farm = f"latest-{uuid.uuid4().hex[:8]}"
    # The newest instant reading is at minute 120, so a 60-minute window keeps co2 (minute 65) and
    # leaves out static_pressure (minute 60) and humidity (30). The later daily row does not count.
    first = [_sink_reading(farm, "temperature.average", 5 * step, 20.0 + step) for step in range(25)]
    first += [
        _sink_reading(farm, "humidity.inside", 30, 55.0),
        _sink_reading(farm, "static_pressure", 60, 12.0),
        _sink_reading(farm, "co2", 65, 1800.0),
        _sink_reading(farm, "water.daily", 600, 5400.0, period="day"),
    ]
    # A later batch: a redelivered reading, and a co2 reading older than the stored one.
    second = [first[3], _sink_reading(farm, "co2", 40, 1500.0)]
    use_copy = lane_database.lane == "postgres"
    with psycopg.connect(lane_database.url, autocommit=True, prepare_threshold=None) as connection:
        connection.execute("INSERT INTO farms (farm_id, name) VALUES (%s, 'Latest farm')", (farm,))
        connection.execute("INSERT INTO houses (farm_id, house_number) VALUES (%s, 1)", (farm,))
        for batch in (first, second):
            with connection.transaction(), connection.cursor() as cursor:
                write_readings(cursor, batch, use_copy)
        reference = connection.execute(
            REFERENCE_LATEST_SQL, {"farm": farm, "house": 1, "window": timedelta(minutes=60)}
        ).fetchall()
        _, key = create_key(connection, "latest reference", [farm])

    with api_client(api_latest_window_minutes=60) as client:
        body = client.get(f"/farms/{farm}/houses/1/readings/latest", headers={"X-API-Key": key}).json()

    assert [row[0] for row in reference] == ["co2", "temperature.average"]
    assert body["count"] == len(reference)
    assert [(item["parameter"], item["value"], item["observed_at"]) for item in body["data"]] == [
        (parameter, value, observed.isoformat().replace("+00:00", "Z"))
        for parameter, value, observed in reference
    ]
