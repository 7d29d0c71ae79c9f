"""Unit tests of the webhook channel against a local HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from notifier.channels import DeliveryContext
from notifier.config import WebhookChannelConfig
from notifier.exceptions import DeliveryError
from notifier.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    sign,
    verify_signature,
)
from tests.notifier.helpers import WebhookReceiver, make_alert

SECRET = b"hook-secret"
SENT_AT = datetime(2026, 12, 4, 3, 6, 40, tzinfo=UTC)


def _context(event_id: str, attempt: int = 1) -> DeliveryContext:
    return DeliveryContext(
        event_id=event_id, channel="ops", rule="critical", attempt=attempt, sent_at=SENT_AT
    )


def _channel(url: str, secret: bytes | None = SECRET, timeout: float = 5.0) -> WebhookChannel:
    settings = WebhookChannelConfig(type="webhook", url=url, timeout_seconds=timeout)
    return WebhookChannel("ops", settings, SecretStr(secret.decode()) if secret else None)


def test_signature_round_trip() -> None:
    body = b'{"alert":{}}'
    header = sign(SECRET, 1_800_000_000, body)
    assert header.startswith("sha256=")
    assert len(header) == len("sha256=") + 64
    assert verify_signature(SECRET, body, "1800000000", header, now=1_800_000_010)


def test_signature_rejects_tampering() -> None:
    body = b'{"alert":{}}'
    header = sign(SECRET, 1_800_000_000, body)
    assert not verify_signature(SECRET, body + b" ", "1800000000", header, now=1_800_000_000)
    assert not verify_signature(b"other", body, "1800000000", header, now=1_800_000_000)
    assert not verify_signature(SECRET, body, "1800000001", header, now=1_800_000_000)
    assert not verify_signature(SECRET, body, "not-a-number", header, now=1_800_000_000)
    assert not verify_signature(SECRET, body, None, header, now=1_800_000_000)


def test_signature_rejects_replayed_request() -> None:
    body = b"{}"
    header = sign(SECRET, 1_800_000_000, body)
    assert not verify_signature(SECRET, body, "1800000000", header, now=1_800_000_301)


def test_post_carries_alert_and_headers(webhook_receiver: WebhookReceiver) -> None:
    alert = make_alert()
    _channel(webhook_receiver.url).send(alert, _context(alert.event_id, attempt=2))

    [request] = webhook_receiver.requests
    assert request.path == "/hooks/farmstream"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[IDEMPOTENCY_HEADER] == alert.event_id
    assert request.headers[TIMESTAMP_HEADER] == str(int(SENT_AT.timestamp()))
    document = json.loads(request.body)
    assert document["alert"] == alert.model_dump(mode="json")
    assert document["delivery"]["event_id"] == alert.event_id
    assert document["delivery"]["attempt"] == 2
    assert document["delivery"]["rule"] == "critical"
    timestamp = int(request.headers[TIMESTAMP_HEADER])
    assert verify_signature(
        SECRET, request.body, request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER], timestamp
    )


def test_unsigned_channel_sends_no_signature(webhook_receiver: WebhookReceiver) -> None:
    alert = make_alert()
    _channel(webhook_receiver.url, secret=None).send(alert, _context(alert.event_id))
    [request] = webhook_receiver.requests
    assert SIGNATURE_HEADER not in request.headers
    assert request.headers[IDEMPOTENCY_HEADER] == alert.event_id


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (404, True), (400, True)],
)
def test_status_classified_transient_or_permanent(
    webhook_receiver: WebhookReceiver, status: int, permanent: bool
) -> None:
    webhook_receiver.statuses.append(status)
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        _channel(webhook_receiver.url).send(alert, _context(alert.event_id))
    assert caught.value.permanent is permanent
    assert f"returned HTTP {status}" in str(caught.value)


def test_error_hides_url_path_and_query(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.statuses.append(500)
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        _channel(webhook_receiver.url + "?token=abc123").send(alert, _context(alert.event_id))
    assert "abc123" not in str(caught.value)
    assert "/hooks/farmstream" not in str(caught.value)


def test_refused_connection_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        _channel(f"http://127.0.0.1:{port}/hook").send(alert, _context(alert.event_id))
    assert caught.value.permanent is False
    assert "ConnectionError" in str(caught.value)
