"""Tests of the ``api`` login style (``/api/Login``, Bearer token) against portals on 127.0.0.1.

Most tests use the fake portal of fake_rotemnet; the last ones run the portal simulator in-process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_rotemnet import API_LOGIN_PATH, LOGIN_PATH, SERVICE_PREFIX, Account, FakePortal, Recorder
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from producers.client import PortalClient, RetryPolicy, ui_origin
from producers.config import ScraperSettings
from producers.exceptions import CredentialsRejectedError, SessionExpiredError
from producers.farms import FarmAccount
from producers.metrics import ScraperMetrics
from producers.scraper import Scraper
from simulator.config import default_config
from simulator.server import start


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal({"alice": Account(password="secret")}) as fake:
        yield fake


def _client(
    portal_url: str,
    username: str = "alice",
    password: str = "secret",  # noqa: S107
) -> tuple[PortalClient, list[float], ScraperMetrics]:
    account = FarmAccount(
        farm_id="farm-a",
        portal_url=portal_url,
        username=username,
        password=SecretStr(password),
        login_style="api",
    )
    sleeps: list[float] = []
    metrics = ScraperMetrics(CollectorRegistry())
    client = PortalClient(account, metrics=metrics, retry=RetryPolicy(3, 1.0, 8.0), sleep=sleeps.append)
    return client, sleeps, metrics


def test_api_login_sends_bearer_token(portal: FakePortal) -> None:
    client, _, _ = _client(portal.url)
    response = client.site_controllers_info()
    assert len(response.payload["FarmHouses"]) == 6
    assert client.session_web_url == portal.url + "api/"
    assert portal.logins["alice"] == 1
    assert LOGIN_PATH not in portal.headers_seen

    login_headers = portal.headers_seen[API_LOGIN_PATH]
    assert "userToken" not in login_headers
    assert "Authorization" not in login_headers
    assert login_headers["Origin"] == portal.url.rstrip("/")

    call_headers = portal.headers_seen["/api/GetSiteControllersInfo"]
    assert call_headers["Authorization"] == f"Bearer {portal.accounts['alice'].user_token}"
    assert "userToken" not in call_headers
    assert "farmConnectionToken" not in call_headers
    assert "Cookie" not in call_headers


def test_api_command_call_returns_data(portal: FakePortal) -> None:
    client, sleeps, _ = _client(portal.url)
    response = client.command_data(0, 2)
    assert response.payload["HouseNumber"] == 2
    assert "dsData" in response.payload
    assert portal.calls["RNBL_GetCommandData"] == 1
    assert sleeps == []


def test_api_login_follows_web_server_url(portal: FakePortal) -> None:
    portal.api_web_server_url = "/api/"
    client, _, _ = _client(portal.url)
    client.js_globals()
    assert client.session_web_url == portal.url + "api/"
    assert "/api/JsGlobals_GetJsGlobals" in portal.headers_seen


def test_api_tokenless_login_retried(portal: FakePortal) -> None:
    portal.faults.tokenless_api_logins = 1
    client, sleeps, metrics = _client(portal.url)
    client.site_controllers_info()
    assert portal.logins["alice"] == 2
    assert len(sleeps) == 1
    assert metrics.failures.labels("farm-a", "transient")._value.get() == 1


def test_api_expired_session_relogs_once(portal: FakePortal) -> None:
    client, sleeps, metrics = _client(portal.url)
    client.site_controllers_info()
    first_token = portal.accounts["alice"].user_token
    portal.faults.expire_sessions = 1
    client.command_data(0, 1)
    assert portal.logins["alice"] == 2
    assert metrics.failures.labels("farm-a", "session")._value.get() == 1
    assert sleeps == []
    new_token = portal.accounts["alice"].user_token
    assert new_token != first_token
    assert portal.headers_seen["/api/RNBL_GetCommandData"]["Authorization"] == f"Bearer {new_token}"


def test_api_http_401_relogs_once(portal: FakePortal) -> None:
    portal.faults.expire_with_http_401 = True
    client, _, metrics = _client(portal.url)
    client.site_controllers_info()
    portal.faults.expire_sessions = 1
    response = client.command_data(0, 3)
    assert response.payload["HouseNumber"] == 3
    assert portal.logins["alice"] == 2
    assert metrics.failures.labels("farm-a", "session")._value.get() == 1


def test_api_repeated_expiry_raises(portal: FakePortal) -> None:
    client, _, _ = _client(portal.url)
    portal.faults.expire_sessions = 5
    with pytest.raises(SessionExpiredError):
        client.site_controllers_info()
    assert portal.logins["alice"] == 2


def test_api_bad_password_rejected(portal: FakePortal) -> None:
    client, sleeps, _ = _client(portal.url, password="wrong")
    with pytest.raises(CredentialsRejectedError, match="Login failed"):
        client.site_controllers_info()
    assert portal.logins["alice"] == 1
    assert portal.calls["GetSiteControllersInfo"] == 0
    assert sleeps == []


def test_api_token_never_logged(portal: FakePortal, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, _, _ = _client(portal.url)
    client.site_controllers_info()
    tokens = [portal.accounts["alice"].user_token]
    portal.faults.expire_sessions = 1
    portal.faults.server_errors = 1
    client.command_data(0, 1)
    tokens.append(portal.accounts["alice"].user_token)
    assert caplog.records
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for token in tokens:
        assert token not in logged
    assert "secret" not in logged


def test_classic_style_sends_no_bearer(portal: FakePortal) -> None:
    account = FarmAccount(
        farm_id="farm-a", portal_url=portal.url, username="alice", password=SecretStr("secret")
    )
    client = PortalClient(account, metrics=ScraperMetrics(CollectorRegistry()))
    client.site_controllers_info()
    assert API_LOGIN_PATH not in portal.headers_seen
    headers = portal.headers_seen[SERVICE_PREFIX + "GetSiteControllersInfo"]
    assert headers["userToken"] == portal.accounts["alice"].user_token
    assert headers["authorization"] == ""
    assert headers["Cookie"] == f"ASP.NET_SessionId={portal.accounts['alice'].session_id}"


@pytest.mark.parametrize(
    ("portal_url", "origin"),
    [
        ("https://rotemnetweb.com/", "https://ui.rotemnetweb.com"),
        ("https://ui.rotemnetweb.com/", "https://ui.rotemnetweb.com"),
        ("http://127.0.0.1:8800/", "http://127.0.0.1:8800"),
        ("http://[::1]:8800/", "http://[::1]:8800"),
        ("http://localhost:8800/", "http://localhost:8800"),
    ],
)
def test_ui_origin_from_portal_url(portal_url: str, origin: str) -> None:
    assert ui_origin(portal_url) == origin


def _api_farms_file(path: Path, portal: FakePortal, login_style: str) -> Path:
    farm = {"farm_id": "farm-a", "username": "alice", "password": "secret", "login_style": login_style}
    path.write_text(json.dumps({"portal_url": portal.url, "farms": [farm]}))
    return path


def _scraper(path: Path) -> tuple[Scraper, Recorder]:
    settings = ScraperSettings(farms_file=path, max_retries=1, backoff_base_seconds=0.0, _env_file=None)  # type: ignore[call-arg]
    recorder = Recorder()
    scraper = Scraper(
        settings,
        publisher=recorder,
        metrics=ScraperMetrics(CollectorRegistry()),
        clock=lambda: datetime(2026, 4, 24, 12, 0, tzinfo=UTC),
        sleep=lambda _: None,
    )
    return scraper, recorder


def test_scraper_cycle_with_api_style(tmp_path: Path, portal: FakePortal) -> None:
    path = _api_farms_file(tmp_path / "farms.json", portal, "api")
    scraper, recorder = _scraper(path)
    [log] = scraper.run_cycle()
    scraper.close()
    assert log.outcome == "success"
    assert log.houses_total == 6
    assert log.readings_published > 0
    assert len(recorder.statuses) == 6
    assert LOGIN_PATH not in portal.headers_seen
    assert portal.logins["alice"] == 1


def test_login_style_change_resumes_polling(tmp_path: Path, portal: FakePortal) -> None:
    portal.faults.reject_classic_login = True
    path = _api_farms_file(tmp_path / "farms.json", portal, "classic")
    scraper, _ = _scraper(path)
    [first] = scraper.run_cycle()
    [second] = scraper.run_cycle()
    assert first.outcome == "auth_failed"
    assert second.requests == 0

    _api_farms_file(path, portal, "api")
    [third] = scraper.run_cycle()
    scraper.close()
    assert third.outcome == "success"
    assert portal.logins["alice"] == 2


def test_simulator_serves_api_style() -> None:
    with start(default_config(seed=3), port=0) as simulator:
        farm = simulator.portal.farms_file()["farms"][0]
        client, sleeps, _ = _client(simulator.base_url + "/", farm["username"], farm["password"])
        houses = client.site_controllers_info().payload["FarmHouses"]
        command = client.command_data(0, houses[0]["HouseNumber"])
        client.close()
    assert client.session_web_url == simulator.base_url + "/api/"
    assert client.gateway_name
    assert houses
    assert command.payload["dsData"]["eRNBLResult"][0]["Value"] == 20
    assert sleeps == []


def test_simulator_expired_api_session_raises() -> None:
    # A zero session lifetime makes every call after login expired, so the one new login fails too.
    with start(default_config(seed=3), port=0, session_lifetime_seconds=0.0) as simulator:
        farm = simulator.portal.farms_file()["farms"][0]
        client, _, metrics = _client(simulator.base_url + "/", farm["username"], farm["password"])
        with pytest.raises(SessionExpiredError):
            client.site_controllers_info()
        client.close()
    assert metrics.failures.labels("farm-a", "session")._value.get() == 2


def test_simulator_rejects_wrong_api_password() -> None:
    with start(default_config(seed=3), port=0) as simulator:
        farm = simulator.portal.farms_file()["farms"][0]
        client, sleeps, _ = _client(simulator.base_url + "/", farm["username"], "not-the-password")
        with pytest.raises(CredentialsRejectedError, match="LoginFailed"):
            client.site_controllers_info()
        client.close()
    assert sleeps == []
