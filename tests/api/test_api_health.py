"""Health, readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.config import ApiSettings
from tests.api.conftest import ClientFactory, LaneDatabase, closed_loopback_port

pytestmark = pytest.mark.integration


def test_readyz_names_unreachable_kafka(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "kafka unavailable"
    assert body["status"] == "unavailable"
    assert body["checks"] == {"kafka": "kafka unreachable", "database": "ok"}


def test_readyz_ready_with_stack_kafka(
    api_client: ClientFactory, lane_database: LaneDatabase, kafka_bootstrap: str
) -> None:
    with api_client(kafka_bootstrap=kafka_bootstrap) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"kafka": "ok", "database": "ok"}, "detail": None}


def test_database_down_gives_503() -> None:
    settings = ApiSettings(
        database_url=f"postgresql://farmstream:farmstream@127.0.0.1:{closed_loopback_port()}/farmstream",
        kafka_bootstrap=f"127.0.0.1:{closed_loopback_port()}",
        api_pool_timeout_seconds=1.0,
        api_readiness_timeout_seconds=1.0,
    )
    with TestClient(create_app(settings, registry=CollectorRegistry())) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "kafka and database unavailable"
        # The endpoint needs no key, so client and driver error text stays in the log.
        assert ready.json()["checks"] == {"kafka": "kafka unreachable", "database": "database unreachable"}
        farms = client.get("/farms", headers={"X-API-Key": "fsk_000000000000.secret"})
        assert farms.status_code == 503
        assert farms.json() == {"detail": "database unavailable"}


def test_metrics_use_route_templates(client: TestClient, lane_database: LaneDatabase) -> None:
    dataset = lane_database.dataset
    alert = dataset.alerts[0]
    headers = {"X-API-Key": dataset.key_all}
    assert client.get(f"/alerts/{alert.alert_id}", headers=headers).status_code == 200
    assert client.get("/alerts/00000000-0000-0000-0000-000000000000", headers=headers).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    text = client.get("/metrics").text
    assert alert.alert_id not in text
    samples = {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "farmstream_api_requests"
        for sample in family.samples
        if sample.name == "farmstream_api_requests_total"
    }
    assert samples[("/alerts/{alert_id}", "200")] == 1
    assert samples[("/alerts/{alert_id}", "404")] == 1
    assert samples[("<unmatched>", "404")] == 1
    assert "farmstream_api_request_duration_seconds_bucket" in text


def test_openapi_documents_every_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 18
    for path, method, operation in operations:
        assert operation.get("tags"), f"{method} {path} has no tag"
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation.get("description"), f"{method} {path} has no description"
    readings = document["paths"]["/readings"]["get"]
    names = {parameter["name"] for parameter in readings["parameters"]}
    assert names >= {"from", "to", "bucket", "parameter", "cursor", "limit", "farm_id", "house_number"}
    assert {"APIKeyHeader", "HTTPBearer"} <= set(document["components"]["securitySchemes"])
