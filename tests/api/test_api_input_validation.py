"""Hostile inputs on both lanes: control characters, oversized strings, forged cursors, empty farms.

PostgreSQL rejects NUL in text, so each of these used to reach the database and return 500.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import LaneDatabase

pytestmark = pytest.mark.integration

RANGE = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def _headers(lane_database: LaneDatabase) -> dict[str, str]:
    return {"X-API-Key": lane_database.dataset.key_all}


def _cursor(items: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(items).encode()).decode().rstrip("=")


def _first_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail[0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**RANGE, "parameter": "\u2713\x00x"}, "parameter"),
        ({**RANGE, "farm_id": "north\x00"}, "farm_id"),
        ({**RANGE, "controller_id": "a\x00b"}, "controller_id"),
        ({**RANGE, "cursor": "abc\x00"}, "cursor"),
    ],
)
def test_nul_in_readings_query_is_422(
    client: TestClient, lane_database: LaneDatabase, params: dict[str, str], field: str
) -> None:
    response = client.get("/readings", params=params, headers=_headers(lane_database))
    error = _first_error(response)
    # A repeated parameter adds its index to the location: ["query", "parameter", 0].
    assert error["loc"][:2] == ["query", field]


def test_nul_in_path_id_is_rejected(client: TestClient, lane_database: LaneDatabase) -> None:
    headers = _headers(lane_database)
    controller = client.get("/controllers/%00", headers=headers)
    assert _first_error(controller)["loc"] == ["path", "controller_id"]
    farm = client.get("/farms/north%00", headers=headers)
    assert _first_error(farm)["loc"] == ["path", "farm_id"]
    house = client.get("/farms/north%00/houses/1/readings/latest", headers=headers)
    assert _first_error(house)["loc"] == ["path", "farm_id"]


def test_nul_in_note_is_422(client: TestClient, lane_database: LaneDatabase) -> None:
    alert = lane_database.dataset.alerts[0]
    response = client.post(
        f"/alerts/{alert.alert_id}/acknowledge",
        json={"note": "a\u0000b"},
        headers=_headers(lane_database),
    )
    assert _first_error(response)["loc"] == ["body", "note"]
    actor = client.post(
        f"/alerts/{alert.alert_id}/acknowledge",
        json={"actor": "maria\u0007"},
        headers=_headers(lane_database),
    )
    assert _first_error(actor)["loc"] == ["body", "actor"]


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/alerts", _cursor(["alerts", "2026-04-24T17:20:00+00:00", "x"])),
        ("/alerts", _cursor(["alerts", "2026-04-24T17:20:00+00:00", "\u0000"])),
        ("/predictions", _cursor(["predictions", "2026-04-24T17:20:00+00:00", "not-a-uuid"])),
        ("/scrape-logs", _cursor(["scrape-logs", "2026-04-24T17:20:00+00:00", "1"])),
        ("/readings", _cursor(["readings:raw:instant", "2026-03-02T01:00:00+00:00", "a\u0000", "b"])),
    ],
)
def test_forged_cursor_is_422(
    client: TestClient, lane_database: LaneDatabase, path: str, cursor: str
) -> None:
    params = {**RANGE, "cursor": cursor} if path == "/readings" else {"cursor": cursor}
    response = client.get(path, params=params, headers=_headers(lane_database))
    error = _first_error(response)
    assert error["loc"] == ["query", "cursor"]
    assert error["msg"].startswith("invalid cursor")


def test_uuid_alert_cursor_still_works(client: TestClient, lane_database: LaneDatabase) -> None:
    cursor = _cursor(["alerts", "2030-01-01T00:00:00+00:00", str(uuid.uuid4())])
    response = client.get("/alerts", params={"cursor": cursor}, headers=_headers(lane_database))
    assert response.status_code == 200, response.text
    # The cursor points after every seeded alert, so the page equals the first page without a cursor.
    first_page = client.get("/alerts", headers=_headers(lane_database)).json()
    assert response.json()["data"] == first_page["data"]
    assert response.json()["count"] >= len(lane_database.dataset.alerts)


@pytest.mark.parametrize(
    "path", ["/houses", "/controllers", "/alerts", "/predictions", "/recommendations", "/scrape-logs"]
)
def test_empty_farm_filter_is_422(client: TestClient, lane_database: LaneDatabase, path: str) -> None:
    response = client.get(path, params={"farm_id": ""}, headers=_headers(lane_database))
    assert _first_error(response)["loc"] == ["query", "farm_id"]


def test_empty_farm_filter_on_readings(client: TestClient, lane_database: LaneDatabase) -> None:
    response = client.get("/readings", params={**RANGE, "farm_id": ""}, headers=_headers(lane_database))
    assert _first_error(response)["loc"] == ["query", "farm_id"]


def test_huge_note_is_not_echoed(client: TestClient, lane_database: LaneDatabase) -> None:
    alert = lane_database.dataset.alerts[0]
    note = "n" * 2_000_000
    response = client.post(
        f"/alerts/{alert.alert_id}/acknowledge", json={"note": note}, headers=_headers(lane_database)
    )
    error = _first_error(response)
    assert error["loc"] == ["body", "note"]
    assert error["type"] == "string_too_long"
    assert len(error["input"]) <= 210
    assert len(response.content) < 2000


def test_huge_parameter_is_not_echoed(client: TestClient, lane_database: LaneDatabase) -> None:
    response = client.get(
        "/readings", params={**RANGE, "parameter": "p" * 60_000}, headers=_headers(lane_database)
    )
    error = _first_error(response)
    assert error["loc"][:2] == ["query", "parameter"]
    assert {"loc", "msg", "type", "input"} <= set(error)
    assert len(response.content) < 2000


def test_huge_cursor_is_not_echoed(client: TestClient, lane_database: LaneDatabase) -> None:
    response = client.get("/alerts", params={"cursor": "A" * 60_000}, headers=_headers(lane_database))
    error = _first_error(response)
    assert error["loc"] == ["query", "cursor"]
    assert len(response.content) < 2000
