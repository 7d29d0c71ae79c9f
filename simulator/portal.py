"""The simulated RotemNet Web portal without HTTP: accounts, sessions, clock, payloads and faults."""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.config import PORTAL_FAULT_KINDS, STEP, FarmConfig, FaultSpec, SimulatorConfig
from simulator.faults import ground_truth_entry
from simulator.history import LAYOUTS, history_command
from simulator.model import FarmModel, stable_seed
from simulator.render import (
    command_zero,
    expand_placeholders,
    iso_instant,
    offline_command_data,
    site_controllers_info,
)
from simulator.replay import ReplaySeries
from simulator.static import (
    comparison_display_fields,
    farm_registration,
    gateway_code,
    house_menu,
    js_globals,
)
from simulator.static import user_info as build_user_info
from simulator.units import UnitRenderer

logger = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
OK_ERROR = {"ErrorCode": 0, "ErrorMessage": ""}


@dataclass
class Response:
    """An HTTP response the server writes as it is."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Session:
    """A logged-in account."""

    farm: FarmConfig
    session_id: str
    user_token: str
    connection_token: str
    created: float
    login_step: int
    api_variant: bool


def envelope(
    payload_json: str,
    context_id: str,
    error: Mapping[str, Any] | None = OK_ERROR,
    in_session: bool = True,
    authorized: bool = True,
    succeeded: bool = True,
) -> bytes:
    """Wrap a serialized reponseObj in the portal's envelope (sic: ``reponseObj``)."""
    error_json = "null" if error is None else json.dumps(error, separators=(",", ":"))
    return (
        f'{{"reponseObj":{payload_json},"ErrorObj":{error_json},"exceptionMessage":null,'
        f'"isInSession":{str(in_session).lower()},"isAuthorize":{str(authorized).lower()},'
        f'"isSucceed":{str(succeeded).lower()},"contextId":{json.dumps(context_id)}}}'
    ).encode()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Portal:
    """All accounts of one simulator run; thread-safe."""

    def __init__(self, config: SimulatorConfig, base_url: str = "http://127.0.0.1:8800") -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.replay = ReplaySeries.load(config.replay, config.start) if config.replay else None
        self.farms = {farm.farm_id: FarmModel(config, farm, self.replay) for farm in config.farms}
        self.units = {farm.farm_id: UnitRenderer(farm.units) for farm in config.farms}
        self._by_username = {farm.username: farm for farm in config.farms}
        self._by_host = {farm.host_number: farm for farm in config.farms}
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._step = 0
        self._served_step: dict[str, int] = {}
        self._cache: dict[tuple[Any, ...], str] = {}
        self._cache_step = 0
        self._fault_counters: dict[str, int] = {}
        self._portal_faults = [fault for fault in config.faults if fault.kind in PORTAL_FAULT_KINDS]

    # -- clock -------------------------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """Return the current simulated step (0 is the configured start instant)."""
        return self._step

    def advance(self, steps: int = 1) -> int:
        """Move the clock forward; houses catch up lazily when a farm is next requested."""
        if steps < 0:
            raise ValueError(f"steps must not be negative, got {steps}")
        with self._lock:
            self._step += steps
            return self._step

    def clock(self) -> dict[str, Any]:
        """Return the clock state served by ``GET /_sim/clock``."""
        step = self._step
        instant = self.config.start + step * STEP
        return {
            "step": step,
            "simulated_time": instant.isoformat(),
            "last_update_dt": iso_instant(instant),
            "start": self.config.start.isoformat(),
            "step_seconds": STEP.total_seconds(),
            "mode": "accelerated" if self.config.step_seconds else "on_demand",
            "real_seconds_per_step": self.config.step_seconds,
        }

    def model(self, farm_id: str) -> FarmModel:
        """Return a farm's model advanced to the current step."""
        farm = self.farms[farm_id]
        farm.advance_to(self._step)
        return farm

    # -- ground truth --------------------------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        """Return each injected fault with place, time and expected signature, plus the replay mapping."""
        faulty = {(fault.farm_id, fault.house) for fault in self.config.faults if fault.house is not None}
        controls = [
            {"farm_id": farm.farm_id, "house": number}
            for farm in self.config.farms
            for number in range(1, farm.houses + 1)
            if (farm.farm_id, number) not in faulty
        ]
        return {
            "seed": self.config.seed,
            "start": self.config.start.isoformat(),
            "step_seconds": STEP.total_seconds(),
            "faults": [ground_truth_entry(fault, self.config.start) for fault in self.config.faults],
            "fault_free_houses": controls,
            "replay": self.replay.mapping() if self.replay else None,
        }

    def farms_file(self) -> dict[str, Any]:
        """Return the scraper's farms file: portal URL and one entry per account."""
        return {
            "portal_url": self.base_url + "/",
            "farms": [
                {
                    "farm_id": farm.farm_id,
                    "username": farm.username,
                    "password": farm.password,
                    "timezone": farm.timezone,
                }
                for farm in self.config.farms
            ],
        }

    # -- requests --------------------------------------------------------------------------------------------

    def web_server_url(self, farm: FarmConfig, api_variant: bool) -> str:
        """Return the absolute host URL the account is pinned to, with a trailing slash."""
        if api_variant:
            return f"{self.base_url}/api/"
        return f"{self.base_url}/Host{farm.host_number}_V1/"

    def login(self, body: Any, api_variant: bool) -> Response:
        """Check credentials and open a session."""
        context_id = str(uuid.uuid4())
        username = body.get("prmUsername") if isinstance(body, dict) else None
        password = body.get("prmPassword") if isinstance(body, dict) else None
        farm = self._by_username.get(str(username)) if username is not None else None
        if farm is None or password != farm.password:
            logger.info("login rejected", extra={"farm": farm.farm_id if farm else None})
            error = {"ErrorCode": 1, "ErrorMessage": "LoginFailed"}
            return Response(
                200, envelope("null", context_id, error, in_session=False, authorized=False, succeeded=False)
            )
        injected = self._portal_fault(farm, "Login")
        if injected is not None and injected.kind == "http_5xx":
            failed = self._fault_response(injected, "Login", context_id, body, farm)
            assert failed is not None
            return self._finish(farm, "Login", failed, injected)
        if injected is not None and injected.kind == "login_without_tokens":
            # Login succeeds but the account has no farm context: no tokens, no connection info.
            logger.info("portal fault injected", extra={"farm": farm.farm_id, "fault": injected.fault_id})
            empty = {"FarmUser": None, "FarmConnectionInfo": None, "WebServerUrl": None, "LoginResult": 0}
            return self._finish(farm, "Login", Response(200, envelope(_dumps(empty), context_id)), injected)
        session = Session(
            farm,
            secrets.token_hex(12),
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(24),
            time.monotonic(),
            self._step,
            api_variant,
        )
        with self._lock:
            self._sessions[session.user_token] = session
        url = self.web_server_url(farm, api_variant)
        now = self.config.start + self._step * STEP
        payload = {
            "FarmUser": build_user_info(farm, session.user_token, now),
            "FarmConnectionInfo": {
                "ConnectionToken": session.connection_token,
                "GatewayName": gateway_code(farm),
                "GatewayAliasName": farm.display_name or farm.farm_id,
                "WebServerUrl": url,
            },
            "WebServerUrl": url,
            "LoginResult": 0,
        }
        body_bytes = envelope(_dumps(payload), context_id)
        # The top-level WebServerUrl sits next to the envelope keys, where some clients look for it.
        body_bytes = body_bytes[:-1] + f',"WebServerUrl":{json.dumps(url)}}}'.encode()
        logger.info("login accepted", extra={"farm": farm.farm_id})
        headers = {"Set-Cookie": f"ASP.NET_SessionId={session.session_id}; path=/; HttpOnly; SameSite=Lax"}
        return self._finish(farm, "Login", Response(200, body_bytes, headers), injected)

    def _authenticate(
        self, host: int | None, headers: Mapping[str, str]
    ) -> tuple[Session | None, Response | None]:
        context_id = headers.get("contextid") or str(uuid.uuid4())
        token = headers.get("usertoken") or ""
        authorization = headers.get("authorization") or ""
        if token in ("", "null") and authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip()
        session = self._sessions.get(token)
        unauthorized = Response(200, envelope("null", context_id, None, authorized=False, succeeded=False))
        if session is None:
            return None, unauthorized
        if host is not None and (session.api_variant or host != session.farm.host_number):
            return None, unauthorized
        connection = headers.get("farmconnectiontoken")
        if connection != session.connection_token and not (session.api_variant and connection is None):
            return None, unauthorized
        expired = Response(200, envelope("null", context_id, None, in_session=False, succeeded=False))
        cookie = _session_cookie(headers.get("cookie", ""))
        if not session.api_variant and cookie != session.session_id:
            return None, expired
        if time.monotonic() - session.created > self.config.session_lifetime_seconds or self._forced_expiry(
            session
        ):
            with self._lock:
                self._sessions.pop(token, None)
            logger.info("session expired", extra={"farm": session.farm.farm_id})
            return None, expired
        return session, None

    def _forced_expiry(self, session: Session) -> bool:
        for fault in self._portal_faults:
            if fault.kind != "expired_session" or (fault.farm_id and fault.farm_id != session.farm.farm_id):
                continue
            start_step = round((fault.start - self.config.start) / STEP)
            if session.login_step < start_step <= self._step and fault.active_at(self._instant()):
                return True
        return False

    def _instant(self) -> Any:
        return self.config.start + self._step * STEP

    def service(self, host: int | None, method: str, headers: Mapping[str, str], body: Any) -> Response:
        """Handle one service call on an account's host path (``host`` None for the /api/ variant).

        ``headers`` has lower-case names, because HTTP header names are case-insensitive.
        """
        session, failure = self._authenticate(host, headers)
        if failure is not None:
            farm = self._by_host.get(host) if host is not None else None
            return self._finish(farm, method, failure) if farm else failure
        assert session is not None
        farm = session.farm
        context_id = headers.get("contextid") or ""
        injected = self._portal_fault(farm, method)
        if injected is not None and injected.kind in (
            "http_5xx",
            "not_succeeded",
            "malformed_json",
            "missing_dsdata",
        ):
            faulted = self._fault_response(injected, method, context_id, body, farm)
            if faulted is not None:
                return self._finish(farm, method, faulted, injected)
        response = self._dispatch(farm, session, method, body, context_id)
        return self._finish(farm, method, response, injected)

    def _dispatch(
        self, farm: FarmConfig, session: Session, method: str, body: Any, context_id: str
    ) -> Response:
        url = self.web_server_url(farm, session.api_variant)
        now = self._instant()
        if method == "JsGlobals_GetJsGlobals":
            return Response(200, envelope(_dumps(js_globals(farm, session.user_token, url, now)), ""))
        if method == "GetFarmRegistration":
            return Response(200, envelope(_dumps(farm_registration(farm)), context_id))
        if method == "GetComparisonDisplayFields":
            return Response(200, envelope(_dumps(comparison_display_fields()), context_id))
        if method == "GetHouseData":
            return Response(200, envelope(_dumps(house_menu()), context_id))
        if method == "GetSiteControllersInfo":
            return Response(200, envelope(self.site_controllers_info_json(farm.farm_id), context_id))
        if method == "RNBL_GetCommandData":
            return self._command_data(farm, body, context_id)
        return Response(
            404, f"Endpoint not found: {method}".encode(), content_type="text/plain; charset=utf-8"
        )

    def site_controllers_info_json(self, farm_id: str) -> str:
        """Return GetSiteControllersInfo's reponseObj as JSON, advancing an on-demand clock first."""
        if self.config.step_seconds is None and self.config.advance_on_scrape:
            with self._lock:
                if self._served_step.get(farm_id) == self._step:
                    self._step += 1
                self._served_step[farm_id] = self._step
        model = self.model(farm_id)
        return self._cached(
            ("sci", farm_id),
            model,
            lambda: site_controllers_info(model.houses, model.instant(model.step), self.units[farm_id], True),
        )

    def command_json(self, farm_id: str, house: int, command: int) -> str | None:
        """Return RNBL_GetCommandData's dsData as JSON, or None when the CommandID is not simulated."""
        model = self.model(farm_id)
        house_model = model.houses[house - 1]
        units = self.units[farm_id]
        reading = house_model.reading
        assert reading is not None
        if not reading.connected:
            return _dumps(offline_command_data())
        if command == 0:
            return self._cached(
                ("cmd", farm_id, house, 0), model, lambda: command_zero(house_model, units, True)
            )
        if command in LAYOUTS:
            return self._cached(
                ("cmd", farm_id, house, command), model, lambda: history_command(command, house_model, units)
            )
        return None

    def _cached(self, key: tuple[Any, ...], model: FarmModel, build: Any) -> str:
        # The cache holds rendered JSON for the current step only; each farm's lock serializes its rendering.
        with model.lock:
            full_key = (*key, model.step)
            text = self._cache.get(full_key)
            if text is None:
                text = expand_placeholders(_dumps(build()))
                with self._lock:
                    if self._cache_step != self._step:
                        self._cache = {k: v for k, v in self._cache.items() if k[-1] >= self._step}
                        self._cache_step = self._step
                    self._cache[full_key] = text
            return text

    def _command_data(self, farm: FarmConfig, body: Any, context_id: str) -> Response:
        params = body.get("prmGetCommandDataParams") if isinstance(body, dict) else None
        try:
            assert isinstance(params, dict)
            command = int(params["CommandID"])
            house = int(params["HouseNumber"])
        except (AssertionError, KeyError, TypeError, ValueError):
            error = {
                "ErrorCode": 10,
                "ErrorMessage": "prmGetCommandDataParams needs CommandID and HouseNumber",
            }
            return Response(200, envelope("null", context_id, error, succeeded=False))
        if not 1 <= house <= farm.houses:
            error = {"ErrorCode": 10, "ErrorMessage": f"House {house} is not connected to this gateway"}
            return Response(200, envelope("null", context_id, error, succeeded=False))
        ds_json = self.command_json(farm.farm_id, house, command)
        if ds_json is None:
            ds_json = _dumps(
                {
                    "Errors": [{"ErrorCode": 10, "ErrorMessage": f"CommandID {command} is not simulated"}],
                    "eRNBLResult": [{"Value": 10}],
                }
            )
        payload = (
            f'{{"HouseNumber":{house},"MenuID":{command},"dsData":{ds_json},"RequestID":"{uuid.uuid4()}",'
            '"IsSetPointCommand":false,"IsDataSentViaService":false,"Controllers":null,"PagingInfo":null}'
        )
        return Response(200, envelope(payload, context_id))

    # -- portal faults ---------------------------------------------------------------------------------

    def _portal_fault(self, farm: FarmConfig | None, method: str) -> FaultSpec | None:
        instant = self._instant()
        for fault in self._portal_faults:
            if fault.kind == "expired_session" or not fault.active_at(instant):
                continue
            if fault.farm_id and (farm is None or fault.farm_id != farm.farm_id):
                continue
            if fault.target and fault.target != method:
                continue
            if fault.kind == "missing_dsdata" and method != "RNBL_GetCommandData":
                continue
            with self._lock:
                count = self._fault_counters.get(fault.fault_id, 0)
                self._fault_counters[fault.fault_id] = count + 1
            draw = random.Random(stable_seed(self.config.seed, fault.fault_id, count)).random()
            if draw < float(fault.params.get("probability", 1.0)):
                return fault
        return None

    def _fault_response(
        self, fault: FaultSpec, method: str, context_id: str, body: Any, farm: FarmConfig
    ) -> Response | None:
        logger.info(
            "portal fault injected", extra={"farm": farm.farm_id, "fault": fault.fault_id, "method": method}
        )
        if fault.kind == "http_5xx":
            status = int(fault.params.get("status", 503))
            page = f"<html><body><h1>{status} Service Unavailable</h1></body></html>".encode()
            return Response(status, page, content_type="text/html; charset=utf-8")
        if fault.kind == "not_succeeded":
            error = {"ErrorCode": 10, "ErrorMessage": "An error occurred while processing the request"}
            return Response(200, envelope("null", context_id, error, succeeded=False))
        if fault.kind == "missing_dsdata":
            params = body.get("prmGetCommandDataParams", {}) if isinstance(body, dict) else {}
            house = params.get("HouseNumber", 1) if isinstance(params, dict) else 1
            command = params.get("CommandID", 0) if isinstance(params, dict) else 0
            payload = _dumps(
                {
                    "HouseNumber": int(house),
                    "MenuID": int(command),
                    "dsData": None,
                    "RequestID": str(uuid.uuid4()),
                    "IsSetPointCommand": False,
                    "IsDataSentViaService": False,
                    "Controllers": None,
                    "PagingInfo": None,
                }
            )
            return Response(200, envelope(payload, context_id))
        return None

    def _finish(
        self, farm: FarmConfig | None, method: str, response: Response, injected: FaultSpec | None = None
    ) -> Response:
        if injected is None and farm is not None and method != "Login":
            injected = self._portal_fault(farm, method)
        if injected is not None:
            if injected.kind == "slow_response":
                response.delay_seconds = float(injected.params.get("delay_seconds", 2.0))
            elif injected.kind == "malformed_json" and response.status == 200:
                response.body = response.body[: max(1, len(response.body) // 2)]
            elif injected.kind == "bom":
                response.body = BOM + response.body
        if farm is not None and farm.bom and not response.body.startswith(BOM) and response.status == 200:
            response.body = BOM + response.body
        return response


def _session_cookie(cookie_header: str) -> str | None:
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "ASP.NET_SessionId":
            return value
    return None
