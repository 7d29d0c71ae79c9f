"""Alerts: filters, pagination, acknowledge and resolve with who and when, on both lanes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.api_dataset import T0, AlertRow, insert_alert
from tests.api.conftest import ClientFactory, LaneDatabase

pytestmark = pytest.mark.integration


def _ids(body: dict[str, Any]) -> list[str]:
    return [alert["alert_id"] for alert in body["data"]]


def _new_alert(lane_database: LaneDatabase, state: str = "open") -> AlertRow:
    """Insert an alert of the east farm for one test; call it while no client is running."""
    alert = AlertRow(
        alert_id=str(uuid.uuid4()),
        farm_id=lane_database.dataset.east,
        house_number=1,
        rule="temperature_off_target",
        severity="warning",
        state=state,
        opened_at=T0 + timedelta(hours=1),
    )
    with psycopg.connect(lane_database.url, autocommit=True, prepare_threshold=None) as connection:
        insert_alert(connection, alert)
    return alert


@pytest.mark.parametrize(
    ("filters", "selector"),
    [
        ({}, lambda alert: True),
        ({"state": "open"}, lambda alert: alert.state == "open"),
        ({"state": "resolved"}, lambda alert: alert.state == "resolved"),
        ({"severity": "critical"}, lambda alert: alert.severity == "critical"),
        ({"house_number": 2}, lambda alert: alert.house_number == 2),
        (
            {"from": "2026-03-02T02:00:00Z", "to": "2026-03-02T04:00:00Z"},
            lambda alert: T0 + timedelta(hours=2) <= alert.opened_at < T0 + timedelta(hours=4),
        ),
    ],
)
def test_alert_filters(
    client: TestClient, lane_database: LaneDatabase, filters: dict[str, Any], selector: Any
) -> None:
    dataset = lane_database.dataset
    body = client.get(
        "/alerts", params={"farm_id": dataset.north, **filters}, headers={"X-API-Key": dataset.key_all}
    ).json()
    expected = sorted(
        (alert for alert in dataset.alerts if alert.farm_id == dataset.north and selector(alert)),
        key=lambda alert: alert.opened_at,
        reverse=True,
    )
    assert _ids(body) == [alert.alert_id for alert in expected]
    assert body["count"] == len(expected)


def test_alert_cursor_walk(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"farm_id": dataset.north, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/alerts", params=params, headers={"X-API-Key": dataset.key_all}).json()
        seen.extend(_ids(body))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = [alert for alert in dataset.alerts if alert.farm_id == dataset.north]
    assert sorted(seen) == sorted(alert.alert_id for alert in expected)
    assert len(seen) == len(set(seen))


def test_invalid_alert_filters_are_422(client: TestClient, lane_database: LaneDatabase) -> None:
    headers = {"X-API-Key": lane_database.dataset.key_north}
    for params, field in (
        ({"state": "closed"}, "state"),
        ({"severity": "fatal"}, "severity"),
        ({"from": "2026-03-02T04:00:00Z", "to": "2026-03-02T02:00:00Z"}, "to"),
        ({"cursor": "garbage"}, "cursor"),
    ):
        response = client.get("/alerts", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][-1] == field
    bad_id = client.get("/alerts/not-a-uuid", headers=headers)
    assert bad_id.status_code == 422
    assert bad_id.json()["detail"][0]["loc"] == ["path", "alert_id"]


def test_acknowledge_records_actor_and_time(api_client: ClientFactory, lane_database: LaneDatabase) -> None:
    alert = _new_alert(lane_database)
    headers = {"X-API-Key": lane_database.dataset.key_all}
    with api_client() as client:
        response = client.post(
            f"/alerts/{alert.alert_id}/acknowledge",
            json={"actor": "maria", "note": "fan 3 checked"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["acknowledged_by"] == "maria"
        assert body["acknowledged_at"] is not None
        assert body["state"] == "open"
        assert [(a["action"], a["actor"], a["note"]) for a in body["actions"]] == [
            ("acknowledge", "maria", "fan 3 checked")
        ]
        again = client.post(f"/alerts/{alert.alert_id}/acknowledge", headers=headers)
        assert again.status_code == 409
        assert again.json() == {"detail": "alert already acknowledged"}
        stored = client.get(f"/alerts/{alert.alert_id}", headers=headers).json()
        assert stored["acknowledged_by"] == "maria"
        assert len(stored["actions"]) == 1


def test_resolve_defaults_actor_to_key_name(api_client: ClientFactory, lane_database: LaneDatabase) -> None:
    alert = _new_alert(lane_database)
    dataset = lane_database.dataset
    with api_client() as client:
        headers = {"X-API-Key": dataset.key_all}
        response = client.post(f"/alerts/{alert.alert_id}/resolve", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["state"] == "resolved"
        assert body["resolved_by"] == dataset.key_all_name
        assert body["resolved_at"] is not None
        assert body["actions"][0]["action"] == "resolve"
        assert body["actions"][0]["actor"] == body["resolved_by"]
        again = client.post(f"/alerts/{alert.alert_id}/resolve", headers=headers)
        assert again.status_code == 409
        assert again.json() == {"detail": "alert already resolved"}
        acknowledge_resolved = client.post(f"/alerts/{alert.alert_id}/acknowledge", headers=headers)
        assert acknowledge_resolved.status_code == 409
        assert acknowledge_resolved.json() == {"detail": "alert already resolved"}


def test_actions_outside_scope_are_404(api_client: ClientFactory, lane_database: LaneDatabase) -> None:
    alert = _new_alert(lane_database)
    with api_client() as client:
        headers = {"X-API-Key": lane_database.dataset.key_north}
        for action in ("acknowledge", "resolve"):
            response = client.post(f"/alerts/{alert.alert_id}/{action}", json={"actor": "x"}, headers=headers)
            assert response.status_code == 404
            assert response.json() == {"detail": "alert not found"}
        untouched = client.get(
            f"/alerts/{alert.alert_id}", headers={"X-API-Key": lane_database.dataset.key_all}
        ).json()
        assert untouched["state"] == "open"
        assert untouched["acknowledged_at"] is None
        assert untouched["actions"] == []


def test_action_body_is_validated(api_client: ClientFactory, lane_database: LaneDatabase) -> None:
    alert = _new_alert(lane_database)
    with api_client() as client:
        headers = {"X-API-Key": lane_database.dataset.key_all}
        empty_actor = client.post(
            f"/alerts/{alert.alert_id}/acknowledge", json={"actor": ""}, headers=headers
        )
        assert empty_actor.status_code == 422
        assert empty_actor.json()["detail"][0]["loc"] == ["body", "actor"]
        unknown_field = client.post(
            f"/alerts/{alert.alert_id}/acknowledge", json={"who": "x"}, headers=headers
        )
        assert unknown_field.status_code == 422
        assert unknown_field.json()["detail"][0]["loc"] == ["body", "who"]
