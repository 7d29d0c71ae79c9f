"""HTTP front of the simulated portal (stdlib ThreadingHTTPServer on 127.0.0.1) and its in-process API.

Routes:
    POST /Latest/Services/AllServices.svc/Login            login, pins the account to its host
    POST /Host{n}_V1/Services/AllServices.svc/{Method}     service calls of the account on host n
    POST /api/Login, POST /api/{Method}                    the newer UI's variant (Bearer token accepted)
    GET  /_sim/clock, GET /_sim/truth, POST /_sim/advance?steps=N   simulator control (not part of the portal)
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulator.config import SimulatorConfig, default_config
from simulator.portal import Portal, Response

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_BODY_BYTES = 1 << 20
_LOGIN_PATH = re.compile(r"^/latest/services/allservices\.svc/login$", re.IGNORECASE)
_HOST_PATH = re.compile(r"^/host(\d+)_v1/services/allservices\.svc/([A-Za-z0-9_]+)$", re.IGNORECASE)
_API_PATH = re.compile(r"^/api/([A-Za-z0-9_]+)$", re.IGNORECASE)


class _Handler(BaseHTTPRequestHandler):
    server: _PortalServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("request %s", format % args)

    def _send(self, response: Response) -> None:
        if response.delay_seconds:
            time.sleep(response.delay_seconds)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _json(self, status: int, value: Any) -> None:
        self._send(Response(status, json.dumps(value, indent=1).encode()))

    def _body(self) -> tuple[Any, str | None]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None, f"request body of {length} bytes is over the {MAX_BODY_BYTES}-byte limit"
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return None, None
        try:
            return json.loads(raw.decode("utf-8-sig")), None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return None, f"request body is not JSON: {error}"

    def do_GET(self) -> None:
        portal = self.server.portal
        path = urlsplit(self.path).path
        if path == "/_sim/clock":
            self._json(200, portal.clock())
        elif path == "/_sim/truth":
            self._json(200, portal.ground_truth())
        else:
            self._send(Response(404, b"not found", content_type="text/plain; charset=utf-8"))

    def do_POST(self) -> None:
        try:
            self._post()
        except Exception:
            # A bug in the simulator must not look like a portal fault, so it returns 500 and logs the trace.
            logger.exception("simulator failed to handle a request", extra={"path": self.path})
            self._send(
                Response(500, b"simulator error, see its log", content_type="text/plain; charset=utf-8")
            )

    def _post(self) -> None:
        portal = self.server.portal
        parts = urlsplit(self.path)
        body, problem = self._body()
        if problem is not None:
            logger.info("request rejected: %s", problem, extra={"path": parts.path})
            self._send(Response(400, problem.encode(), content_type="text/plain; charset=utf-8"))
            return
        if parts.path == "/_sim/advance":
            query = parse_qs(parts.query)
            try:
                steps = int(query.get("steps", ["1"])[0])
                if steps < 0:
                    raise ValueError(steps)
            except ValueError:
                logger.info("advance rejected: invalid steps", extra={"query": parts.query})
                self._send(Response(400, b"steps must be a non-negative integer", content_type="text/plain"))
                return
            portal.advance(steps)
            self._json(200, portal.clock())
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        if _LOGIN_PATH.match(parts.path):
            self._send(portal.login(body, api_variant=False))
            return
        host_match = _HOST_PATH.match(parts.path)
        if host_match:
            self._send(portal.service(int(host_match.group(1)), host_match.group(2), headers, body))
            return
        api_match = _API_PATH.match(parts.path)
        if api_match:
            method = api_match.group(1)
            if method.lower() == "login":
                self._send(portal.login(body, api_variant=True))
            else:
                self._send(portal.service(None, method, headers, body))
            return
        logger.info("request rejected: no route", extra={"path": parts.path})
        self._send(
            Response(404, f"no route for {parts.path}".encode(), content_type="text/plain; charset=utf-8")
        )


class _PortalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.portal: Portal


class RunningSimulator:
    """A simulator serving on 127.0.0.1 in background threads; stop it with ``stop()``."""

    def __init__(self, config: SimulatorConfig, port: int = 8800) -> None:
        self._server = _PortalServer(port)
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        self.portal = Portal(config, self.base_url)
        self._server.portal = self.portal
        self.config = config
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="simulator-http",
                daemon=True,
            )
        ]
        if config.step_seconds is not None:
            self._threads.append(threading.Thread(target=self._tick, name="simulator-clock", daemon=True))
        for thread in self._threads:
            thread.start()
        logger.info("simulator started", extra={"url": self.base_url, "farms": len(config.farms)})

    def _tick(self) -> None:
        assert self.config.step_seconds is not None
        while not self._stopped.wait(self.config.step_seconds):
            self.portal.advance(1)

    @property
    def login_url(self) -> str:
        """Return the login URL of the portal's front door."""
        return f"{self.base_url}/Latest/Services/AllServices.svc/Login"

    def advance(self, steps: int = 1) -> int:
        """Move the simulated clock ``steps`` 5-minute steps forward and return the new step."""
        return self.portal.advance(steps)

    def clock(self) -> dict[str, Any]:
        """Return the simulated clock."""
        return self.portal.clock()

    def ground_truth(self) -> dict[str, Any]:
        """Return the injected faults and the replay mapping."""
        return self.portal.ground_truth()

    def write_ground_truth(self, path: Path) -> Path:
        """Write the ground truth as JSON and return the path."""
        path.write_text(json.dumps(self.ground_truth(), indent=2) + "\n", encoding="utf-8")
        return path

    def farms_file(self, path: Path) -> Path:
        """Write the scraper's farms file (portal URL, credentials, time zones) and return the path."""
        path.write_text(json.dumps(self.portal.farms_file(), indent=2) + "\n", encoding="utf-8")
        return path

    def stop(self) -> None:
        """Stop serving and wait for the background threads."""
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        logger.info("simulator stopped", extra={"url": self.base_url})

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start(config: SimulatorConfig | None = None, port: int = 8800, **overrides: Any) -> RunningSimulator:
    """Start a simulator on 127.0.0.1:``port`` (0 picks a free port) and return it while it serves."""
    chosen = config or default_config()
    if overrides:
        chosen = replace(chosen, **overrides)
    return RunningSimulator(chosen, port)
