"""A small fake RotemNet portal on 127.0.0.1 for the producer tests and the producer benchmark.

It serves Login on ``/Latest/Services/AllServices.svc/Login`` and the services on
``/Host6_V1/Services/AllServices.svc/<Method>`` with the real captured payloads, checks tokens and
the session cookie, and injects faults on request: expired sessions, HTTP 5xx, malformed JSON,
a UTF-8 BOM and rejected passwords. The newer UI's style is served too: Login on ``/api/Login``
and the services on ``/api/<Method>``, authorised by ``Authorization: Bearer <UserToken>`` alone
(that login returns no ConnectionToken and sets no cookie). It is a test double, not the portal
simulator.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from schemas.events import DeadLetter, HouseStatus, Reading, ScrapeLog


def _captures_folder() -> Path:
    """Return the folder of the captured portal responses, beside the checkout or else under /work."""
    beside = Path(__file__).resolve().parents[3] / "shared" / "data" / "rotemnet"
    return beside if beside.is_dir() else Path("/work/shared/data/rotemnet")


CAPTURES = _captures_folder()
SERVICE_PREFIX = "/Host6_V1/Services/AllServices.svc/"
LOGIN_PATH = "/Latest/Services/AllServices.svc/Login"
API_PREFIX = "/api/"
API_LOGIN_PATH = "/api/Login"


def load_capture(name: str) -> dict[str, Any]:
    """Return a captured response (the ``response`` object) by file name."""
    document = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    response: dict[str, Any] = document["response"]
    return response


def envelope(payload: Any, **flags: Any) -> dict[str, Any]:
    """Wrap a payload in the portal's envelope, with the real ``reponseObj`` spelling."""
    return {
        "reponseObj": payload,
        "ErrorObj": {"ErrorCode": 0, "ErrorMessage": ""},
        "exceptionMessage": None,
        "isInSession": flags.get("isInSession", True),
        "isAuthorize": flags.get("isAuthorize", True),
        "isSucceed": flags.get("isSucceed", True),
        "contextId": str(uuid.uuid4()),
    }


def _feed_row(day: int) -> dict[str, Any]:
    return {
        "HistoryRecord_FeederTotal": str(10 + day),
        "HistoryRecord_Feeder_1": str(5 + day / 2),
        "HistoryRecord_Feeder_2": str(5 + day / 2),
        "HistoryRecord_ChangeTotal": -9999.0,
    }


def _heater_row(day: int) -> dict[str, Any]:
    return {f"HistoryRecord_Heaters_HeaterDevice_{n}": ("01:30" if n <= 8 else "00:00") for n in range(1, 17)}


def _history_payload(command: int, day_field: str, row: Any) -> dict[str, Any]:
    """Return a synthetic history payload (no capture exists for commands 41 and 43), days -1 to 21."""
    rows = [{day_field: float(day), **row(day), "RowNum": index} for index, day in enumerate(range(-1, 22))]
    columns = [
        {"field": name, "UnitType": "UT_Time" if "Heater" in name else "UT_Weight"} for name in rows[0]
    ]
    return {
        "HouseNumber": 1,
        "MenuID": command,
        "dsData": {
            "eRNBLResult": [{"Value": 20}],
            "MDT": [],
            "GridTables": [{"ContainerID": "Data", "ColumnsDefinitions": columns, "Data": rows}],
        },
    }


@dataclass
class Account:
    """One portal account of the fake."""

    password: str
    houses: int = 6
    offline_houses: frozenset[int] = frozenset()
    unlisted_houses: frozenset[int] = frozenset()
    """Houses left out of GetSiteControllersInfo's house list. ``FakePortal.unlist`` changes them."""
    user_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    connection_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    session_id: str = ""


@dataclass
class Faults:
    """Faults to inject; counters are consumed as requests arrive."""

    expire_sessions: int = 0
    server_errors: int = 0
    malformed_json: int = 0
    malformed_method: str | None = None
    """Limit malformed_json to one service method."""
    bom: bool = False
    missing_data_set: int = 0
    expire_with_http_401: bool = False
    """Return HTTP 401 for an expired /api/ session instead of an isInSession:false envelope."""
    reject_classic_login: bool = False
    """Reject every login on the classic path, as for an account that only the /api/ login accepts."""
    tokenless_api_logins: int = 0
    """Accept an /api/ login but leave UserToken out of its response."""


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many scraper threads connect at once in the benchmark
    daemon_threads = True


class FakePortal:
    """A threaded HTTP fake of the portal; use as a context manager."""

    def __init__(self, accounts: dict[str, Account], faults: Faults | None = None) -> None:
        self.accounts = accounts
        self.faults = faults or Faults()
        self.calls: Counter[str] = Counter()
        self.logins: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.api_web_server_url: str | None = None
        """WebServerUrl in the /api/Login response. None leaves it out, so the client uses its default."""
        self.headers_seen: dict[str, dict[str, str]] = {}
        """Headers of the last request on each path."""
        self._site = load_capture("GetSiteControllersInfo.json")
        self._commands = {
            0: load_capture("RNBL_GetCommandData_cmd0_main.json"),
            35: load_capture("RNBL_GetCommandData_cmd35_temperature_history.json"),
            40: load_capture("RNBL_GetCommandData_cmd40_water_history.json"),
        }
        self._commands[41] = envelope(_history_payload(41, "HistoryRecord_GrowthDay", _feed_row))
        self._commands[43] = envelope(_history_payload(43, "HistoryRecord_Heaters_GrowthDay", _heater_row))
        self._js_globals = load_capture("JsGlobals_GetJsGlobals.json")["reponseObj"]
        self._encoded: dict[tuple[str, int], bytes] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the portal base URL with a trailing slash."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __enter__(self) -> FakePortal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _take(self, name: str) -> bool:
        with self.lock:
            remaining = getattr(self.faults, name)
            if remaining > 0:
                setattr(self.faults, name, remaining - 1)
                return True
            return False

    def unlist(self, username: str, houses: frozenset[int]) -> None:
        """Leave these houses out of the account's house list from the next request on."""
        with self.lock:
            self.accounts[username].unlisted_houses = houses
            self._encoded.pop((username, 0), None)

    def site_payload(self, account: Account) -> dict[str, Any]:
        """Return GetSiteControllersInfo for an account: the capture trimmed or widened to its houses."""
        payload = copy.deepcopy(self._site["reponseObj"])
        template = payload["FarmHouses"][0]
        houses = []
        for number in range(1, account.houses + 1):
            if number in account.unlisted_houses:
                continue
            house = copy.deepcopy(template)
            house["HouseNumber"] = number
            house["HouseName"] = f"House {number}"
            house["ConnectionStatus"] = 0 if number in account.offline_houses else 1
            houses.append(house)
        payload["FarmHouses"] = houses
        for item in payload["DicComparisonItems"].values():
            base = {key: item.get(key) for key in ("House1", "House1_Data")}
            for number in range(1, account.houses + 1):
                item.setdefault(f"House{number}", base["House1"])
                item.setdefault(f"House{number}_Data", base["House1_Data"])
        return payload

    def _body(self, username: str, method: str, request: dict[str, Any]) -> bytes:
        account = self.accounts[username]
        if method == "GetSiteControllersInfo":
            key = (username, 0)
            if key not in self._encoded:
                self._encoded[key] = json.dumps(envelope(self.site_payload(account))).encode()
            return self._encoded[key]
        if method == "JsGlobals_GetJsGlobals":
            return json.dumps(envelope({"UserInfo": self._js_globals["UserInfo"]})).encode()
        if method == "RNBL_GetCommandData":
            parameters = request["prmGetCommandDataParams"]
            command = int(parameters["CommandID"])
            house = int(parameters["HouseNumber"])
            if self._take("missing_data_set"):
                payload = dict(self._commands[0]["reponseObj"])
                payload.pop("dsData")
                return json.dumps(envelope(payload)).encode()
            capture = self._commands.get(command)
            if capture is None:
                return json.dumps(
                    envelope(
                        {"HouseNumber": house, "MenuID": command, "dsData": {"eRNBLResult": [{"Value": 10}]}}
                    )
                ).encode()
            key = (f"cmd{command}", house)
            if key not in self._encoded:
                payload = dict(capture["reponseObj"])
                payload["HouseNumber"] = house
                self._encoded[key] = json.dumps(envelope(payload)).encode()
            return self._encoded[key]
        return json.dumps(envelope(None, isSucceed=False)).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: bytes, cookie: str | None = None) -> None:
                if portal.faults.bom:
                    body = b"\xef\xbb\xbf" + body
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if cookie:
                    self.send_header("Set-Cookie", f"ASP.NET_SessionId={cookie}; path=/; HttpOnly")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"null")
                with portal.lock:
                    portal.headers_seen[self.path] = dict(self.headers.items())
                if self.path == LOGIN_PATH:
                    self._login(request)
                    return
                if self.path == API_LOGIN_PATH:
                    self._login(request, api_style=True)
                    return
                if self.path.startswith(API_PREFIX):
                    self._api_service(self.path[len(API_PREFIX) :], request)
                    return
                if not self.path.startswith(SERVICE_PREFIX):
                    self._send(404, b"not found")
                    return
                method = self.path[len(SERVICE_PREFIX) :]
                username = next(
                    (
                        name
                        for name, account in portal.accounts.items()
                        if account.user_token == self.headers.get("userToken")
                        and account.connection_token == self.headers.get("farmConnectionToken")
                        and f"ASP.NET_SessionId={account.session_id}" in (self.headers.get("Cookie") or "")
                    ),
                    None,
                )
                with portal.lock:
                    portal.calls[method] += 1
                if username is None or portal._take("expire_sessions"):
                    self._send(200, json.dumps(envelope(None, isInSession=False, isAuthorize=False)).encode())
                    return
                if portal._take("server_errors"):
                    self._send(503, b"<html>Service Unavailable</html>")
                    return
                wanted = portal.faults.malformed_method in (None, method)
                if wanted and portal._take("malformed_json"):
                    self._send(200, b'{"reponseObj": {"FarmHouses": [ truncated')
                    return
                self._send(200, portal._body(username, method, request))

            def _api_service(self, method: str, request: dict[str, Any]) -> None:
                authorization = self.headers.get("Authorization") or ""
                token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
                username = next(
                    (name for name, account in portal.accounts.items() if account.user_token == token), None
                )
                with portal.lock:
                    portal.calls[method] += 1
                if username is None or portal._take("expire_sessions"):
                    if portal.faults.expire_with_http_401:
                        self._send(401, b'{"Message": "Authorization has been denied for this request."}')
                    else:
                        expired = envelope(None, isInSession=False, isAuthorize=False)
                        self._send(200, json.dumps(expired).encode())
                    return
                if portal._take("server_errors"):
                    self._send(503, b"<html>Service Unavailable</html>")
                    return
                self._send(200, portal._body(username, method, request))

            def _login(self, request: dict[str, Any], api_style: bool = False) -> None:
                username = request.get("prmUsername")
                account = portal.accounts.get(str(username))
                with portal.lock:
                    portal.logins[str(username)] += 1
                rejected = portal.faults.reject_classic_login and not api_style
                if account is None or request.get("prmPassword") != account.password or rejected:
                    body = envelope(None, isSucceed=False)
                    body["ErrorObj"] = {"ErrorCode": 1, "ErrorMessage": "Login failed"}
                    self._send(200, json.dumps(body).encode())
                    return
                account.user_token = uuid.uuid4().hex
                account.connection_token = uuid.uuid4().hex
                account.session_id = uuid.uuid4().hex
                if api_style:
                    api_payload: dict[str, Any] = {
                        "FarmUser": {"UserToken": account.user_token, "UserName": username},
                        "FarmConnectionInfo": {"GatewayName": "gw-" + str(username)},
                    }
                    if portal._take("tokenless_api_logins"):
                        api_payload["FarmUser"] = {"UserName": username}
                    if portal.api_web_server_url is not None:
                        api_payload["WebServerUrl"] = portal.api_web_server_url
                    self._send(200, json.dumps(envelope(api_payload)).encode())
                    return
                payload = {
                    "FarmUser": {"UserToken": account.user_token, "UserName": username},
                    "FarmConnectionInfo": {
                        "ConnectionToken": account.connection_token,
                        "GatewayName": "gw-" + str(username),
                        "WebServerUrl": "/Host6_V1/",
                    },
                }
                self._send(200, json.dumps(envelope(payload)).encode(), cookie=account.session_id)

        return Handler


class Recorder:
    """In-memory stand-in for the Kafka publisher: keeps the published events in lists."""

    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.statuses: list[HouseStatus] = []
        self.logs: list[ScrapeLog] = []
        self.dead_letters: list[DeadLetter] = []

    def reading(self, event: Reading | HouseStatus) -> None:
        (self.readings if isinstance(event, Reading) else self.statuses).append(event)  # type: ignore[arg-type]

    def scrape_log(self, event: ScrapeLog) -> None:
        self.logs.append(event)

    def dead_letter(self, event: DeadLetter) -> None:
        self.dead_letters.append(event)

    def flush(self) -> int:
        return 0
