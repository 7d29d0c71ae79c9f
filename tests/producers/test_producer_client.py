"""Portal client tests against a fake portal started on 127.0.0.1 in the test (see fake_rotemnet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_rotemnet import Account, FakePortal
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from producers.client import PortalClient, RetryPolicy, resolve_web_server_url
from producers.exceptions import (
    CredentialsRejectedError,
    PayloadError,
    SessionExpiredError,
    TransientPortalError,
)
from producers.farms import FarmAccount
from producers.metrics import ScraperMetrics


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal({"alice": Account(password="secret")}) as fake:
        yield fake


def _client(
    portal: FakePortal,
    password: str = "secret",  # noqa: S107
    retries: int = 3,
) -> tuple[PortalClient, list[float], ScraperMetrics]:
    account = FarmAccount(
        farm_id="farm-a", portal_url=portal.url, username="alice", password=SecretStr(password)
    )
    sleeps: list[float] = []
    metrics = ScraperMetrics(CollectorRegistry())
    client = PortalClient(account, metrics=metrics, retry=RetryPolicy(retries, 1.0, 8.0), sleep=sleeps.append)
    return client, sleeps, metrics


def test_login_follows_web_server_url(portal: FakePortal) -> None:
    client, _, _ = _client(portal)
    response = client.site_controllers_info()
    assert client.session_web_url == portal.url + "Host6_V1/"
    assert len(response.payload["FarmHouses"]) == 6
    assert portal.logins["alice"] == 1


def test_session_expiry_relogs_once(portal: FakePortal) -> None:
    client, _, metrics = _client(portal)
    client.site_controllers_info()
    portal.faults.expire_sessions = 1
    client.command_data(0, 1)
    assert portal.logins["alice"] == 2
    assert metrics.failures.labels("farm-a", "session")._value.get() == 1


def test_repeated_expiry_raises(portal: FakePortal) -> None:
    client, _, _ = _client(portal)
    portal.faults.expire_sessions = 5
    with pytest.raises(SessionExpiredError):
        client.site_controllers_info()
    assert portal.logins["alice"] == 2


def test_bad_password_rejected(portal: FakePortal) -> None:
    client, sleeps, _ = _client(portal, password="wrong")
    with pytest.raises(CredentialsRejectedError, match="Login failed"):
        client.site_controllers_info()
    assert portal.logins["alice"] == 1
    assert sleeps == []


def test_server_errors_retried_with_backoff(portal: FakePortal) -> None:
    client, sleeps, metrics = _client(portal)
    client.site_controllers_info()
    portal.faults.server_errors = 3
    client.command_data(0, 2)
    assert len(sleeps) == 3
    caps = [1.0, 2.0, 4.0]
    assert all(0 <= delay <= cap for delay, cap in zip(sleeps, caps, strict=True))
    assert client.retries_made == 3
    assert metrics.failures.labels("farm-a", "transient")._value.get() == 3


def test_retries_exhausted_raise(portal: FakePortal) -> None:
    client, sleeps, _ = _client(portal, retries=2)
    client.site_controllers_info()
    portal.faults.server_errors = 10
    with pytest.raises(TransientPortalError, match="HTTP 503"):
        client.command_data(0, 1)
    assert len(sleeps) == 2


def test_missing_data_set_retried(portal: FakePortal) -> None:
    client, sleeps, _ = _client(portal)
    portal.faults.missing_data_set = 1
    response = client.command_data(0, 1)
    assert "dsData" in response.payload
    assert len(sleeps) == 1


def test_malformed_json_keeps_raw(portal: FakePortal) -> None:
    client, _, _ = _client(portal)
    client.site_controllers_info()
    portal.faults.malformed_json = 1
    with pytest.raises(PayloadError) as caught:
        client.site_controllers_info()
    assert caught.value.raw.startswith(b'{"reponseObj"')


def test_bom_bodies_accepted(portal: FakePortal) -> None:
    portal.faults.bom = True
    client, _, _ = _client(portal)
    assert client.command_data(0, 3).payload["HouseNumber"] == 3


def test_foreign_web_server_url_rebased() -> None:
    url = resolve_web_server_url("http://127.0.0.1:8800/", "https://rotemnetweb.com/Host6_V1")
    assert url == "http://127.0.0.1:8800/Host6_V1/"
    assert resolve_web_server_url("http://127.0.0.1:8800/", "Host3_V1/") == "http://127.0.0.1:8800/Host3_V1/"
    assert resolve_web_server_url("http://127.0.0.1:8800/", None) == "http://127.0.0.1:8800/Latest/"
