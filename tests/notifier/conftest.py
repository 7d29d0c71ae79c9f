"""Fixtures of the notifier tests: a webhook receiver and an SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from tests.notifier.helpers import (
    EphemeralPortController,
    RecordingHandler,
    SmtpReceiver,
    WebhookReceiver,
    authenticator_for,
    handler_for,
)


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
