"""Helpers of the notifier tests: alert events and local receivers (HTTP and SMTP on 127.0.0.1).

Both receivers run in threads of the test process, bind an ephemeral port and record what they
receive.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from schemas.events import Alert

OPENED_AT = datetime(2026, 12, 4, 2, 41, tzinfo=UTC)


def make_alert(
    *,
    farm_id: str = "north-ridge",
    house_number: int | None = 3,
    rule: str = "temperature_off_target",
    subject: str = "temperature.average",
    severity: str = "critical",
    state: str = "open",
    sequence: int = 0,
    minutes_open: int = 25,
) -> Alert:
    """Return a valid alert event with deterministic ids."""
    alert_id = Alert.make_alert_id(farm_id, house_number, subject, rule, OPENED_AT)
    event_time = OPENED_AT + timedelta(minutes=minutes_open)
    return Alert(
        event_id=Alert.make_event_id(alert_id, sequence),
        alert_id=alert_id,
        sequence=sequence,
        state=state,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        rule=rule,
        farm_id=farm_id,
        house_number=house_number,
        subject=subject,
        title="House temperature far above target",
        message="Average temperature 34.2 °C is 7.2 °C above the target of 27.0 °C.",
        value=34.2,
        expected=27.0,
        opened_at=OPENED_AT,
        event_time=event_time,
        resolved_at=event_time if state == "resolved" else None,
    )


@dataclass
class ReceivedRequest:
    """One request the webhook receiver accepted or rejected."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """An HTTP server that replies to POSTs with scripted statuses, then 200 once the script runs out."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[ReceivedRequest]:
        """Return the requests that received a 2xx status."""
        with self.lock:
            return [request for request in self.requests if 200 <= request.status < 300]


def handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@dataclass
class SmtpReceiver:
    """An SMTP server that keeps every message it accepts."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    reject_recipients: set[str] = field(default_factory=set)


class RecordingHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.receiver.reject_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.receiver.messages.append(message)
        self.receiver.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted"


class EphemeralPortController(Controller):  # type: ignore[misc]
    """An aiosmtpd controller that listens on a socket bound to port 0 beforehand."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._socket.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        loop: asyncio.AbstractEventLoop = self.loop
        return loop.create_server(self._factory_invoker, sock=self._socket, ssl=self.ssl_context)


def authenticator_for(receiver: SmtpReceiver, password: str) -> Any:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and data.password.decode() == password:
            receiver.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return authenticator


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, both PEM files."""

    certificate: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """Return a TLS server context that presents the certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context
