"""Portal client of one farm account: login, session headers, retries and error classification.

Each :class:`PortalClient` owns one ``requests.Session`` and speaks the account's login style:

* ``classic`` logs in on ``{portal_url}Latest/Services/AllServices.svc/Login``, then calls
  ``{WebServerUrl}Services/AllServices.svc/{Method}`` with the ``userToken`` and
  ``farmConnectionToken`` headers and the ``ASP.NET_SessionId`` cookie.
* ``api`` (the newer web UI) logs in on ``{portal_url}api/Login``, then calls
  ``{WebServerUrl}{Method}``, where ``WebServerUrl`` defaults to ``{portal_url}api/``, with
  ``Authorization: Bearer <UserToken>``. It needs no ``ConnectionToken``, but sends it and the session
  cookie when the login returned them.

Both styles use the same method names and bodies. Transient failures are retried with exponential
backoff and full jitter. An expired session gets one new login per call. Rejected credentials raise
:class:`CredentialsRejectedError` and are not retried.
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from producers.envelope import check_envelope, decode_json, read_envelope
from producers.exceptions import (
    CredentialsRejectedError,
    PayloadError,
    PortalError,
    SessionExpiredError,
    TransientPortalError,
)
from producers.farms import FarmAccount
from producers.metrics import ScraperMetrics

logger = logging.getLogger(__name__)

SERVICE_PATH = "Services/AllServices.svc/"
LOGIN_PATH = "Latest/" + SERVICE_PATH + "Login"
API_BASE_PATH = "api/"
API_LOGIN_PATH = API_BASE_PATH + "Login"
SESSION_COOKIE = "ASP.NET_SessionId"
RNBL_SUCCESS = 20
RNBL_NULL_RESULT = 0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure."""

    max_retries: int = 3
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Return the sleep before retry ``attempt`` (from 1): full jitter over an exponential cap."""
        cap = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return rng.uniform(0, cap)


@dataclass
class Response:
    """A successful call: the payload and the raw body it was decoded from."""

    payload: Any
    raw: bytes


@dataclass
class _Session:
    web_url: str
    user_token: str
    connection_token: str | None
    session_id: str | None
    gateway_name: str | None


def _find(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _first_text(document: Mapping[str, Any], *paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value = _find(document, path)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def resolve_web_server_url(portal_url: str, web_server_url: str | None, default_path: str = "Latest/") -> str:
    """Return the absolute service base for a login's ``WebServerUrl``, with a trailing slash.

    A missing value gives ``portal_url + default_path``. A relative value is resolved against the
    portal. An absolute value on another origin keeps its path but is re-based onto the configured
    portal, so tokens only go to the configured host.
    """
    if not web_server_url:
        return portal_url + default_path
    portal = urlsplit(portal_url)
    target = urlsplit(urljoin(portal_url, web_server_url))
    if (target.scheme, target.netloc) != (portal.scheme, portal.netloc):
        logger.warning(
            "WebServerUrl names another host; using its path on the configured portal",
            extra={"web_server_host": target.netloc, "portal_host": portal.netloc},
        )
        target = target._replace(scheme=portal.scheme, netloc=portal.netloc)
    path = target.path if target.path.endswith("/") else target.path + "/"
    return urlunsplit((target.scheme, target.netloc, path, "", ""))


def ui_origin(portal_url: str) -> str:
    """Return the web UI origin that the ``api`` style sends as ``Origin``, without a trailing slash.

    The newer UI is served from the portal's domain with a ``ui.`` prefix, so ``https://rotemnetweb.com/``
    gives ``https://ui.rotemnetweb.com``. An IP address, ``localhost`` or a ``ui.`` host is kept as is.
    """
    # NOTE: the ui. prefix is known only for rotemnetweb.com, and the regional domains are assumed alike.
    parts = urlsplit(portal_url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        is_address = True
    except ValueError:
        is_address = False
    if is_address or host == "localhost" or "." not in host or host.startswith("ui."):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}://ui.{parts.netloc}"


class _NoCookieJarPolicy(http.cookiejar.DefaultCookiePolicy):
    """Keep no cookies in the session jar: the session cookie is sent explicitly on every call."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class PortalClient:
    """A logged-in session with one farm's portal account."""

    def __init__(
        self,
        account: FarmAccount,
        *,
        metrics: ScraperMetrics,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.account = account
        self.metrics = metrics
        self.retry = retry or RetryPolicy()
        self.timeout = (connect_timeout, read_timeout)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies from the environment
        self.http.cookies.set_policy(_NoCookieJarPolicy())
        self._session: _Session | None = None
        self._latest_session_id: str | None = None
        self.login_user_info: Mapping[str, Any] | None = None
        """The login's ``FarmUser`` (UserInfo shape), which may carry the account's unit settings."""
        self.requests_made = 0
        self.retries_made = 0

    @property
    def farm_id(self) -> str:
        """Return the farm's id."""
        return self.account.farm_id

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def _origin(self) -> str:
        if self.account.login_style == "api":
            return ui_origin(self.account.portal_url)
        portal = urlsplit(self.account.portal_url)
        return f"{portal.scheme}://{portal.netloc}"

    def _base_headers(self, referer: str) -> dict[str, str]:
        return {
            "Accept": "application/json, text/plain, */*",
            "Content-Type": "application/json;charset=UTF-8",
            "Origin": self._origin(),
            "Referer": referer,
            "userLanguage": "ENGLISH",
            "X-Requested-With": "XMLHttpRequest",
        }

    def _post(self, method: str, url: str, body: object, headers: Mapping[str, str]) -> bytes:
        """POST once; return the body of a 2xx response or raise a classified PortalError."""
        self.requests_made += 1
        self.metrics.requests.labels(self.farm_id, method).inc()
        try:
            response = self.http.post(
                url,
                data=json.dumps(body).encode(),
                headers=dict(headers),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as error:
            raise TransientPortalError(f"{method}: timed out after {self.timeout[1]:.0f} s") from error
        except requests.RequestException as error:
            raise TransientPortalError(f"{method}: connection failed: {type(error).__name__}") from error
        raw = response.content
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientPortalError(f"{method}: HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise SessionExpiredError(f"{method}: HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise PayloadError(f"{method}: unexpected HTTP {response.status_code}", raw)
        session_id = response.cookies.get(SESSION_COOKIE)
        if session_id:
            self._latest_session_id = session_id
            if self._session is not None:
                self._session.session_id = session_id
        return raw

    def login(self) -> None:
        """Log in and keep the tokens, cookie and service URL; CredentialsRejectedError if refused."""
        api_style = self.account.login_style == "api"
        body = {
            "prmUsername": self.account.username,
            "prmPassword": self.account.password.get_secret_value(),
            "prmIsNativeAppLogin": False,
            "prmIsKeepMeSignedIn": False,
        }
        if api_style:
            url = self.account.portal_url + API_LOGIN_PATH
            headers = self._base_headers(self._origin() + "/RotemWebApp/User.html")
        else:
            url = self.account.portal_url + LOGIN_PATH
            headers = {
                **self._base_headers(self.account.portal_url + "Latest/rotemWebApp/User.html"),
                "userToken": "null",
            }
        self._session = None
        self._latest_session_id = None
        try:
            raw = self._post("Login", url, body, headers)
        except SessionExpiredError as error:
            raise CredentialsRejectedError(f"login rejected for farm {self.farm_id}: {error}") from error

        document = decode_json(raw)
        envelope = read_envelope(document, raw)
        if envelope.is_succeed is False or envelope.is_authorize is False:
            raise CredentialsRejectedError(
                f"login rejected for farm {self.farm_id}: {envelope.error_message or 'isSucceed false'}; "
                "check the username and password in the farms file"
            )

        root = document if isinstance(document, Mapping) else {}
        payload = envelope.payload if isinstance(envelope.payload, Mapping) else {}
        user_token = _first_text(payload, ("FarmUser", "UserToken"), ("UserToken",))
        connection_token = _first_text(
            payload, ("FarmConnectionInfo", "ConnectionToken"), ("ConnectionToken",)
        )
        if not user_token or (not connection_token and not api_style):
            missing = "UserToken" if api_style else "UserToken or ConnectionToken"
            raise TransientPortalError(
                f"login for farm {self.farm_id} returned no {missing}, so it is retried"
            )

        web_server_url = _first_text(
            root,
            ("WebServerUrl",),
            ("reponseObj", "WebServerUrl"),
            ("responseObj", "WebServerUrl"),
            ("reponseObj", "FarmUser", "WebServerUrl"),
            ("responseObj", "FarmUser", "WebServerUrl"),
            ("reponseObj", "FarmConnectionInfo", "WebServerUrl"),
            ("responseObj", "FarmConnectionInfo", "WebServerUrl"),
        )
        self._session = _Session(
            web_url=resolve_web_server_url(
                self.account.portal_url, web_server_url, API_BASE_PATH if api_style else "Latest/"
            ),
            user_token=user_token,
            connection_token=connection_token,
            session_id=self._latest_session_id,
            gateway_name=_first_text(
                payload, ("FarmConnectionInfo", "GatewayName"), ("FarmUser", "GatewayName")
            ),
        )
        farm_user = payload.get("FarmUser")
        self.login_user_info = farm_user if isinstance(farm_user, Mapping) else None
        logger.info(
            "logged in to the portal",
            extra={
                "farm": self.farm_id,
                "login_style": self.account.login_style,
                "web_server_url": self._session.web_url,
            },
        )

    @property
    def gateway_name(self) -> str | None:
        """Return the gateway code from the login, if the portal sent one."""
        return self._session.gateway_name if self._session else None

    def _call_once(self, method: str, body: object, require_data_set: bool) -> Response:
        if self._session is None:
            self.login()
        session = self._session
        assert session is not None
        url, headers = self._service_request(session, method)
        raw = self._post(method, url, body, headers)
        payload = check_envelope(read_envelope(decode_json(raw), raw), method)
        if require_data_set:
            data_set = payload.get("dsData") if isinstance(payload, Mapping) else None
            if not isinstance(data_set, Mapping):
                raise TransientPortalError(f"{method}: response has no dsData")
            results = data_set.get("eRNBLResult")
            if isinstance(results, list) and results and isinstance(results[0], Mapping):
                code = results[0].get("Value")
                if code == RNBL_NULL_RESULT:
                    raise TransientPortalError(f"{method}: controller result eRNBLResult 0 (no result yet)")
                if code != RNBL_SUCCESS:
                    raise PayloadError(
                        f"{method}: controller result eRNBLResult {code!r}, expected 20 (5 is access denied)",
                        raw,
                    )
        return Response(payload=payload, raw=raw)

    def _service_request(self, session: _Session, method: str) -> tuple[str, dict[str, str]]:
        """Return the URL and headers of a service call in the account's login style."""
        if self.account.login_style == "api":
            url = session.web_url + method
            headers = {
                **self._base_headers(self._origin() + "/RotemWebApp/Main.html"),
                "Authorization": f"Bearer {session.user_token}",
            }
        else:
            url = session.web_url + SERVICE_PATH + method
            headers = {
                **self._base_headers(session.web_url + "rotemWebApp/Main.html"),
                "userToken": session.user_token,
                "authorization": "",
            }
        if session.connection_token:
            headers["farmConnectionToken"] = session.connection_token
        if session.session_id:
            headers["Cookie"] = f"{SESSION_COOKIE}={session.session_id}"
        return url, headers

    def call(self, method: str, body: object = None, *, require_data_set: bool = False) -> Response:
        """Call a service with retries; raise the last PortalError when retries are exhausted."""
        attempt = 0
        relogged = False
        while True:
            try:
                return self._call_once(method, body, require_data_set)
            except SessionExpiredError as error:
                self.metrics.failures.labels(self.farm_id, error.kind).inc()
                if relogged:
                    raise
                relogged = True
                logger.info(
                    "session expired; logging in again", extra={"farm": self.farm_id, "method": method}
                )
                self._session = None
            except TransientPortalError as error:
                self.metrics.failures.labels(self.farm_id, error.kind).inc()
                attempt += 1
                if attempt > self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, self.rng)
                self.retries_made += 1
                self.metrics.retries.labels(self.farm_id).inc()
                logger.warning(
                    "portal call failed; retrying",
                    extra={
                        "farm": self.farm_id,
                        "method": method,
                        "attempt": attempt,
                        "delay_s": round(delay, 2),
                        "error": str(error),
                    },
                )
                self.sleep(delay)
            except PortalError as error:
                self.metrics.failures.labels(self.farm_id, error.kind).inc()
                if isinstance(error, PayloadError) and error.command is None:
                    error.command = method
                raise

    def command_data(self, command_id: int, house_number: int) -> Response:
        """Fetch ``RNBL_GetCommandData`` of one command of one house."""
        body = {
            "prmGetCommandDataParams": {
                "CommandID": str(command_id),
                "IsSetPointCommand": False,
                "HouseNumber": str(house_number),
                "RoomNumber": -1,
                "ClientLanguageIndex": 1,
                "IsIgnoreCache": False,
                "PageNumber": -1,
                "IsLoadPageFromCache": False,
            }
        }
        return self.call("RNBL_GetCommandData", body, require_data_set=True)

    def site_controllers_info(self) -> Response:
        """Fetch ``GetSiteControllersInfo`` (all houses of the farm)."""
        body = (
            {"prmSiteControllersInfoParams": {"GatewayCode": self.gateway_name}}
            if self.gateway_name
            else None
        )
        return self.call("GetSiteControllersInfo", body)

    def js_globals(self) -> Response:
        """Fetch ``JsGlobals_GetJsGlobals`` (user info with the account's unit settings)."""
        return self.call("JsGlobals_GetJsGlobals", {})

    @property
    def session_web_url(self) -> str | None:
        """Return the service base URL of the current session, if logged in."""
        return self._session.web_url if self._session else None
