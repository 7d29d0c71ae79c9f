"""API key authentication and farm scoping, against the real database on both lanes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import LaneDatabase

pytestmark = pytest.mark.integration

RANGE = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T06:00:00Z"}


def test_missing_key_is_401(client: TestClient) -> None:
    response = client.get("/farms")
    assert response.status_code == 401
    assert response.json() == {"detail": "missing API key"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        "fsk_",
        "fsk_abc",
        "fsk_000000000000.wrongsecret",
    ],
)
def test_malformed_or_unknown_key_is_401(client: TestClient, key: str) -> None:
    response = client.get("/farms", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_wrong_secret_is_401(client: TestClient, lane_database: LaneDatabase) -> None:
    key_id = lane_database.dataset.key_north.partition(".")[0]
    response = client.get(
        "/farms", headers={"X-API-Key": f"{key_id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_revoked_key_is_401(client: TestClient, lane_database: LaneDatabase) -> None:
    response = client.get("/farms", headers={"X-API-Key": lane_database.dataset.key_revoked})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_bearer_token_is_accepted(client: TestClient, lane_database: LaneDatabase) -> None:
    response = client.get("/farms", headers={"Authorization": f"Bearer {lane_database.dataset.key_north}"})
    assert response.status_code == 200
    assert [farm["farm_id"] for farm in response.json()["data"]] == [lane_database.dataset.north]


def test_lists_contain_only_scoped_farms(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_north}
    for path in ("/farms", "/houses", "/controllers", "/alerts", "/predictions", "/scrape-logs"):
        body = client.get(path, headers=headers).json()
        assert body["count"] > 0, path
        assert {row["farm_id"] for row in body["data"]} == {dataset.north}, path
    readings = client.get("/readings", params=RANGE, headers=headers).json()
    assert {row["farm_id"] for row in readings["data"]} == {dataset.north}


@pytest.mark.parametrize(
    "path",
    ["/houses", "/controllers", "/alerts", "/predictions", "/recommendations", "/scrape-logs", "/readings"],
)
def test_farm_filter_outside_scope_is_403(client: TestClient, lane_database: LaneDatabase, path: str) -> None:
    dataset = lane_database.dataset
    params = {**RANGE, "farm_id": dataset.south} if path == "/readings" else {"farm_id": dataset.south}
    response = client.get(path, params=params, headers={"X-API-Key": dataset.key_north})
    assert response.status_code == 403
    assert response.json() == {"detail": "farm outside the API key's scope"}


def test_single_resources_outside_scope_are_404(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_north}
    south_alert = next(alert for alert in dataset.alerts if alert.farm_id == dataset.south)
    cases = {
        f"/farms/{dataset.south}": "farm not found",
        f"/farms/{dataset.south}/houses/1": "house not found",
        f"/farms/{dataset.south}/houses/1/readings/latest": "house not found",
        f"/controllers/{dataset.controller(dataset.south, 1)}": "controller not found",
        f"/alerts/{south_alert.alert_id}": "alert not found",
    }
    for path, detail in cases.items():
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json() == {"detail": detail}, path
    # The same resources are readable with a key that covers the farm.
    for path in cases:
        assert client.get(path, headers={"X-API-Key": dataset.key_all}).status_code == 200, path


def test_missing_resources_are_404(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    headers = {"X-API-Key": dataset.key_all}
    assert client.get(f"/farms/{dataset.unknown}", headers=headers).json() == {"detail": "farm not found"}
    assert client.get(f"/farms/{dataset.north}/houses/9", headers=headers).status_code == 404
    missing_alert = client.get("/alerts/00000000-0000-0000-0000-000000000000", headers=headers)
    assert missing_alert.status_code == 404
    assert missing_alert.json() == {"detail": "alert not found"}


def test_unauthenticated_endpoints_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/readyz").status_code == 503  # Kafka points at a closed port
