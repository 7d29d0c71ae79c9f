"""Login, sessions, host pinning, the /api variant, portal faults and the clock, over real HTTP on 127.0.0.1.

The simulator runs in-process on a free loopback port; requests go through the requests library.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sim_helpers import capture_like

from simulator.config import FaultSpec, SimulatorConfig
from simulator.server import RunningSimulator, start

LOGIN_BODY = {
    "prmUsername": "grower1@example.com",
    "prmPassword": "secret-1",
    "prmIsNativeAppLogin": False,
    "prmIsKeepMeSignedIn": False,
}
COMMAND_ZERO = {
    "prmGetCommandDataParams": {
        "CommandID": "0",
        "IsSetPointCommand": False,
        "HouseNumber": "1",
        "RoomNumber": -1,
        "ClientLanguageIndex": 1,
        "IsIgnoreCache": False,
        "PageNumber": -1,
        "IsLoadPageFromCache": False,
    }
}


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    running = start(capture_like(), port=0)
    yield running
    running.stop()


def _decode(response: requests.Response) -> Any:
    return json.loads(response.content.decode("utf-8-sig"))


class Client:
    """A minimal portal client: log in, then call services with the tokens and the cookie."""

    def __init__(self, simulator: RunningSimulator, body: dict[str, Any] | None = None) -> None:
        self.http = requests.Session()
        response = self.http.post(simulator.login_url, json=body or LOGIN_BODY, headers={"userToken": "null"})
        self.login = _decode(response)
        self.cookie_header = response.headers.get("Set-Cookie", "")
        payload = self.login["reponseObj"]
        self.url = self.login["WebServerUrl"]
        self.headers = {
            "userToken": payload["FarmUser"]["UserToken"],
            "farmConnectionToken": payload["FarmConnectionInfo"]["ConnectionToken"],
        }

    def call(self, method: str, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        return self.http.post(
            f"{self.url}Services/AllServices.svc/{method}",
            json=body,
            headers=headers or self.headers,
            timeout=10,
        )


def test_login_returns_tokens_and_host(simulator: RunningSimulator) -> None:
    client = Client(simulator)
    payload = client.login["reponseObj"]
    assert client.login["isSucceed"] is True
    assert client.url == f"{simulator.base_url}/Host6_V1/"
    assert payload["WebServerUrl"] == client.url
    assert payload["FarmConnectionInfo"]["WebServerUrl"] == client.url
    assert payload["FarmConnectionInfo"]["GatewayName"]
    assert payload["FarmUser"]["DicUintsSigns"]["UT_Temperature"] == "C°"
    assert "ASP.NET_SessionId=" in client.cookie_header
    assert set(client.login) >= {
        "reponseObj",
        "ErrorObj",
        "exceptionMessage",
        "isInSession",
        "isAuthorize",
        "isSucceed",
        "contextId",
    }


def test_service_calls_succeed(simulator: RunningSimulator) -> None:
    client = Client(simulator)
    for method, body in (
        ("JsGlobals_GetJsGlobals", {}),
        ("GetFarmRegistration", {"prmFarmRegistrationParams": {"GatewayCode": "x"}}),
        ("GetComparisonDisplayFields", {}),
        ("GetSiteControllersInfo", None),
        (
            "GetHouseData",
            {"prmGetMenuParams": {"HouseNumber": "1", "RoomNumber": -1, "ClientLanguageIndex": 1}},
        ),
        ("RNBL_GetCommandData", COMMAND_ZERO),
    ):
        response = client.call(method, body)
        assert response.status_code == 200, method
        envelope = _decode(response)
        assert envelope["isSucceed"] is True, method
        assert envelope["reponseObj"] is not None, method
    globals_payload = _decode(client.call("JsGlobals_GetJsGlobals", {}))["reponseObj"]
    assert globals_payload["C_IgnoredValue"] == "-9999"
    assert globals_payload["UserInfo"]["UnitConverterSettings"]["PressureUnit"] == 2
    assert (
        globals_payload["GatewayInfo"]["GatewayName"]
        == client.login["reponseObj"]["FarmConnectionInfo"]["GatewayName"]
    )


def test_history_command_as_number(simulator: RunningSimulator) -> None:
    client = Client(simulator)
    body = {"prmGetCommandDataParams": {**COMMAND_ZERO["prmGetCommandDataParams"], "CommandID": 40}}
    payload = _decode(client.call("RNBL_GetCommandData", body))["reponseObj"]
    assert payload["MenuID"] == 40
    assert payload["dsData"]["Data"][0]["HistoryRecord_GrowthDay"] == -1.0


def test_wrong_password_fails_login(simulator: RunningSimulator) -> None:
    response = requests.post(simulator.login_url, json={**LOGIN_BODY, "prmPassword": "wrong"}, timeout=10)
    envelope = _decode(response)
    assert response.status_code == 200
    assert envelope["isSucceed"] is False
    assert envelope["ErrorObj"] == {"ErrorCode": 1, "ErrorMessage": "LoginFailed"}
    assert envelope["reponseObj"] is None


def test_wrong_tokens_are_unauthorized(simulator: RunningSimulator) -> None:
    client = Client(simulator)
    for headers in (
        {**client.headers, "userToken": "forged"},
        {**client.headers, "farmConnectionToken": "forged"},
    ):
        envelope = _decode(client.call("GetSiteControllersInfo", None, headers))
        assert envelope["isAuthorize"] is False
        assert envelope["isSucceed"] is False


def test_other_host_is_unauthorized(simulator: RunningSimulator) -> None:
    client = Client(simulator)
    response = client.http.post(
        f"{simulator.base_url}/Host3_V1/Services/AllServices.svc/GetSiteControllersInfo",
        headers=client.headers,
        timeout=10,
    )
    assert _decode(response)["isAuthorize"] is False


def test_expired_session_needs_login() -> None:
    config = replace(capture_like(), session_lifetime_seconds=0.0)
    with start(config, port=0) as simulator:
        client = Client(simulator)
        envelope = _decode(client.call("GetSiteControllersInfo"))
        assert envelope["isInSession"] is False
        assert envelope["isSucceed"] is False


def test_missing_cookie_is_out_of_session(simulator: RunningSimulator) -> None:
    client = Client(simulator)
    client.http.cookies.clear()
    assert _decode(client.call("GetSiteControllersInfo"))["isInSession"] is False


def test_api_variant_accepts_bearer(simulator: RunningSimulator) -> None:
    login = _decode(requests.post(f"{simulator.base_url}/api/Login", json=LOGIN_BODY, timeout=10))
    assert login["WebServerUrl"] == f"{simulator.base_url}/api/"
    token = login["reponseObj"]["FarmUser"]["UserToken"]
    response = requests.post(
        f"{simulator.base_url}/api/RNBL_GetCommandData",
        json=COMMAND_ZERO,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert _decode(response)["reponseObj"]["dsData"]["eRNBLResult"] == [{"Value": 20}]


def test_imperial_account_sends_bom(simulator: RunningSimulator) -> None:
    body = {**LOGIN_BODY, "prmUsername": "grower4@example.com", "prmPassword": "secret-4"}
    response = requests.post(simulator.login_url, json=body, timeout=10)
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert _decode(response)["WebServerUrl"].endswith("/Host4_V1/")


def test_scrape_cycles_advance_clock(simulator: RunningSimulator) -> None:
    config = replace(capture_like(), advance_on_scrape=True)
    with start(config, port=0) as on_demand:
        client = Client(on_demand)
        stamps = [
            _decode(client.call("GetSiteControllersInfo"))["reponseObj"]["LastUpdateDT"] for _ in range(3)
        ]
    assert stamps == [
        "2026-04-24T17:15:00.0000000+00:00",
        "2026-04-24T17:20:00.0000000+00:00",
        "2026-04-24T17:25:00.0000000+00:00",
    ]


def test_control_endpoints(simulator: RunningSimulator) -> None:
    advanced = requests.post(f"{simulator.base_url}/_sim/advance?steps=3", timeout=10).json()
    assert advanced["step"] == 3
    clock = requests.get(f"{simulator.base_url}/_sim/clock", timeout=10).json()
    assert clock["simulated_time"] == "2026-04-24T17:30:00+00:00"
    truth = requests.get(f"{simulator.base_url}/_sim/truth", timeout=10).json()
    assert truth["faults"] == []
    assert len(truth["fault_free_houses"]) == 29
    bad = requests.post(f"{simulator.base_url}/_sim/advance?steps=-1", timeout=10)
    assert bad.status_code == 400


def _portal_fault(kind: str, target: str | None = None, **params: float) -> SimulatorConfig:
    config = capture_like()
    end = config.start + timedelta(hours=1)
    spec = FaultSpec(f"{kind}-1", kind, "farm-1", config.start, end, target=target, params=params)
    return replace(config, faults=(spec,))


@pytest.mark.parametrize("status", [502, 503, 504])
def test_portal_fault_http_status(status: int) -> None:
    config = _portal_fault("http_5xx", "GetSiteControllersInfo", status=float(status))
    with start(config, port=0) as simulator:
        client = Client(simulator)
        response = client.call("GetSiteControllersInfo")
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")


def test_portal_fault_malformed_json() -> None:
    with start(_portal_fault("malformed_json"), port=0) as simulator:
        raw = requests.post(simulator.login_url, json=LOGIN_BODY, timeout=10)
    assert raw.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw.content)


def test_portal_fault_bom_and_not_succeeded() -> None:
    with start(_portal_fault("bom"), port=0) as simulator:
        assert requests.post(simulator.login_url, json=LOGIN_BODY, timeout=10).content.startswith(
            b"\xef\xbb\xbf"
        )
    with start(_portal_fault("not_succeeded"), port=0) as simulator:
        envelope = _decode(Client(simulator).call("GetSiteControllersInfo"))
        assert envelope["isSucceed"] is False
        assert envelope["ErrorObj"]["ErrorCode"] == 10


def test_portal_fault_missing_dsdata() -> None:
    with start(_portal_fault("missing_dsdata"), port=0) as simulator:
        client = Client(simulator)
        payload = _decode(client.call("RNBL_GetCommandData", COMMAND_ZERO))["reponseObj"]
        site = _decode(client.call("GetSiteControllersInfo"))
    assert payload["dsData"] is None
    assert site["isSucceed"] is True


def test_portal_fault_expired_session() -> None:
    config = capture_like()
    spec = FaultSpec(
        "exp-1",
        "expired_session",
        "farm-1",
        config.start + timedelta(minutes=10),
        config.start + timedelta(hours=1),
    )
    with start(replace(config, faults=(spec,)), port=0) as simulator:
        client = Client(simulator)
        assert _decode(client.call("GetSiteControllersInfo"))["isInSession"] is True
        simulator.advance(2)
        assert _decode(client.call("GetSiteControllersInfo"))["isInSession"] is False
        again = Client(simulator)
        assert _decode(again.call("GetSiteControllersInfo"))["isInSession"] is True


def test_portal_fault_slow_response() -> None:
    with start(_portal_fault("slow_response", delay_seconds=0.05), port=0) as simulator:
        response = simulator.portal.login(LOGIN_BODY, api_variant=False)
    assert response.delay_seconds == 0.05


def test_accelerated_clock_ticks() -> None:
    with start(capture_like(), port=0, step_seconds=0.02) as simulator:
        deadline = time.monotonic() + 10.0
        while simulator.clock()["step"] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        clock = simulator.clock()
    assert clock["step"] >= 3
    assert clock["mode"] == "accelerated"


def test_farms_and_truth_files(simulator: RunningSimulator, tmp_path: Path) -> None:
    farms = json.loads(simulator.farms_file(tmp_path / "farms.json").read_text())
    assert farms["portal_url"] == simulator.base_url + "/"
    assert [farm["farm_id"] for farm in farms["farms"]] == ["farm-1", "farm-2", "farm-3", "farm-us"]
    assert set(farms["farms"][0]) == {"farm_id", "username", "password", "timezone"}
    truth = json.loads(simulator.write_ground_truth(tmp_path / "truth.json").read_text())
    assert truth == simulator.ground_truth()


def test_cli_reports_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from farmstream.cli import main

    status = main(["simulator", "--config", str(tmp_path / "missing.json")])
    assert status == 1
    assert "simulator config" in capsys.readouterr().err


def test_portal_fault_login_without_tokens() -> None:
    with start(_portal_fault("login_without_tokens"), port=0) as simulator:
        envelope = _decode(requests.post(simulator.login_url, json=LOGIN_BODY, timeout=10))
    assert envelope["isSucceed"] is True
    assert envelope["reponseObj"]["FarmUser"] is None
    assert envelope["reponseObj"]["FarmConnectionInfo"] is None


def test_portal_fault_login_http_error() -> None:
    with start(_portal_fault("http_5xx", status=502.0), port=0) as simulator:
        response = requests.post(simulator.login_url, json=LOGIN_BODY, timeout=10)
    assert response.status_code == 502
