"""Failure predictions, recommendations and scrape logs, on both lanes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import LaneDatabase

pytestmark = pytest.mark.integration


def _walk(client: TestClient, path: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, limit=2)
        if cursor:
            query["cursor"] = cursor
        response = client.get(path, params=query, headers={"X-API-Key": key})
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def test_predictions_newest_first(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    rows = _walk(client, "/predictions", dataset.key_all, {"farm_id": dataset.north})
    expected = sorted(
        (p for p in dataset.predictions if p.farm_id == dataset.north and p.kind == "failure_prediction"),
        key=lambda p: p.created_at,
        reverse=True,
    )
    assert [row["event_id"] for row in rows] == [p.event_id for p in expected]
    assert all(row["threshold"] == 0.5 and row["confidence"] == 0.8 for row in rows)
    assert rows[0]["controller_id"] == dataset.controller(dataset.north, expected[0].house_number)


def test_predictions_by_house_and_time(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    params = {"house_number": 1, "from": "2026-03-02T00:30:00Z", "to": "2026-03-02T02:00:00Z"}
    body = client.get("/predictions", params=params, headers={"X-API-Key": dataset.key_north}).json()
    low, high = datetime.fromisoformat(params["from"]), datetime.fromisoformat(params["to"])
    expected = [
        p.event_id
        for p in sorted(dataset.predictions, key=lambda p: p.created_at, reverse=True)
        if p.farm_id == dataset.north
        and p.kind == "failure_prediction"
        and p.house_number == 1
        and low <= p.created_at < high
    ]
    assert [row["event_id"] for row in body["data"]] == expected


def test_recommendations_list(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    body = client.get("/recommendations", headers={"X-API-Key": dataset.key_north}).json()
    expected = [
        p.event_id for p in dataset.predictions if p.kind == "recommendation" and p.farm_id == dataset.north
    ]
    assert [row["event_id"] for row in body["data"]] == expected
    assert body["data"][0]["action"] == "raise_minimum_ventilation"


def test_scrape_logs_by_outcome(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    everything = _walk(client, "/scrape-logs", dataset.key_all, {})
    assert len(everything) == len(dataset.scrape_logs)
    assert len({row["event_id"] for row in everything}) == len(everything)
    failed = client.get(
        "/scrape-logs", params={"outcome": "failed"}, headers={"X-API-Key": dataset.key_all}
    ).json()
    expected = sorted(
        (log for log in dataset.scrape_logs if log.outcome == "failed"),
        key=lambda log: log.started_at,
        reverse=True,
    )
    assert [row["event_id"] for row in failed["data"]] == [log.event_id for log in expected]
    assert {row["error_kind"] for row in failed["data"]} == {"transient"}


def test_event_lists_reject_invalid_filters(client: TestClient, lane_database: LaneDatabase) -> None:
    headers = {"X-API-Key": lane_database.dataset.key_north}
    outcome = client.get("/scrape-logs", params={"outcome": "ok"}, headers=headers)
    assert outcome.status_code == 422
    assert outcome.json()["detail"][0]["loc"] == ["query", "outcome"]
    swapped = client.get(
        "/predictions", params={"from": "2026-03-03T00:00:00Z", "to": "2026-03-02T00:00:00Z"}, headers=headers
    )
    assert swapped.status_code == 422
    assert swapped.json()["detail"][0]["loc"] == ["query", "to"]
    foreign_cursor = client.get("/predictions", params={"cursor": "WyJhbGVydHMiXQ"}, headers=headers)
    assert foreign_cursor.status_code == 422
    assert foreign_cursor.json()["detail"][0]["loc"] == ["query", "cursor"]
