"""Fixtures of the notifier tests: a webhook receiver and an SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from tests.notifier.helpers import (
    Certificate,
    EphemeralPortController,
    RecordingHandler,
    SmtpReceiver,
    WebhookReceiver,
    authenticator_for,
    handler_for,
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear proxy variables so that requests to the local receivers stay on 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Start an HTTP receiver on 127.0.0.1 and an ephemeral port."""
    receiver = WebhookReceiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/farmstream"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """Start an SMTP server on 127.0.0.1 that accepts the login ``alerts`` / ``s3cret-smtp``."""
    receiver = SmtpReceiver(host="127.0.0.1", port=0)
    controller = EphemeralPortController(
        RecordingHandler(receiver),
        authenticator=authenticator_for(receiver, "s3cret-smtp"),
        auth_require_tls=False,
    )
    receiver.port = controller.port
    controller.start()
    yield receiver
    controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """Create a one-day self-signed certificate for 127.0.0.1 with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    pair = Certificate(certificate=folder / "cert.pem", key=folder / "key.pem")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(pair.key), "-out", str(pair.certificate),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return pair


@pytest.fixture
def starttls_receiver(certificate: Certificate) -> Iterator[SmtpReceiver]:
    """Start an SMTP server on 127.0.0.1 that requires STARTTLS before the login and the mail."""
    receiver = SmtpReceiver(host="127.0.0.1", port=0)
    controller = EphemeralPortController(
        RecordingHandler(receiver),
        authenticator=authenticator_for(receiver, "s3cret-smtp"),
        tls_context=certificate.server_context(),
        require_starttls=True,
    )
    receiver.port = controller.port
    controller.start()
    yield receiver
    controller.stop()


@pytest.fixture
def smtps_receiver(certificate: Certificate) -> Iterator[SmtpReceiver]:
    """Start an SMTP server on 127.0.0.1 that speaks TLS from the first byte (SMTPS)."""
    receiver = SmtpReceiver(host="127.0.0.1", port=0)
    controller = EphemeralPortController(
        RecordingHandler(receiver),
        authenticator=authenticator_for(receiver, "s3cret-smtp"),
        ssl_context=certificate.server_context(),
    )
    receiver.port = controller.port
    controller.start()
    yield receiver
    controller.stop()
