"""Webhook channel: a JSON POST per alert state, optionally signed with HMAC-SHA256.

Headers sent with each request:

- ``Idempotency-Key`` and ``X-Farmstream-Event-Id``: the alert event's id, identical on every
  attempt, so a receiver can drop the rare second delivery (see :mod:`notifier.store`).
- ``X-Farmstream-Timestamp``: Unix time of the attempt, in seconds.
- ``X-Farmstream-Signature``: ``sha256=<hex>``, the HMAC-SHA256 with the channel secret of
  ``<timestamp>.<body>``, present when the channel has a secret. Binding the timestamp lets a
  receiver reject a replayed request older than a few minutes (:func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlsplit

import requests
from pydantic import SecretStr

from notifier.channels import DeliveryContext
from notifier.config import WebhookChannelConfig
from notifier.exceptions import DeliveryError
from schemas.events import Alert

SIGNATURE_HEADER = "X-Farmstream-Signature"
TIMESTAMP_HEADER = "X-Farmstream-Timestamp"
EVENT_ID_HEADER = "X-Farmstream-Event-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "farmstream-notifier/1"

# HTTP statuses worth retrying; every other 4xx means the request itself is wrong.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Return the signature header value of a body sent at a Unix timestamp."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: bytes,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: float,
    tolerance_seconds: float = 300.0,
) -> bool:
    """Return whether a received request carries a valid, recent signature (for webhook receivers)."""
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header)


def build_body(alert: Alert, context: DeliveryContext) -> bytes:
    """Return the JSON body: the alert event as published, plus the delivery metadata."""
    document = {
        "delivery": {
            "event_id": context.event_id,
            "idempotency_key": context.event_id,
            "channel": context.channel,
            "rule": context.rule,
            "attempt": context.attempt,
            "sent_at": context.sent_at.isoformat(),
        },
        "alert": alert.model_dump(mode="json"),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def redact_url(url: str) -> str:
    """Return scheme, host and port of a URL: paths and queries of webhook URLs often embed tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/..."


class WebhookChannel:
    """Deliver alert states to one HTTP(S) endpoint."""

    def __init__(self, name: str, settings: WebhookChannelConfig, secret: SecretStr | None) -> None:
        self.name = name
        self._settings = settings
        self._secret = secret.get_secret_value().encode() if secret is not None else None
        self._display_url = redact_url(settings.url)

    def build_request(self, alert: Alert, context: DeliveryContext) -> tuple[bytes, dict[str, str]]:
        """Return the body and headers of one attempt."""
        body = build_body(alert, context)
        timestamp = int(context.sent_at.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: context.event_id,
            EVENT_ID_HEADER: context.event_id,
            TIMESTAMP_HEADER: str(timestamp),
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        return body, headers

    def send(self, alert: Alert, context: DeliveryContext) -> None:
        """POST the alert state once; raise DeliveryError, permanent when the endpoint rejects the request."""
        body, headers = self.build_request(alert, context)
        try:
            response = requests.post(
                self._settings.url,
                data=body,
                headers=headers,
                timeout=self._settings.timeout_seconds,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise DeliveryError(
                f"webhook {self.name} at {self._display_url} timed out after"
                f" {self._settings.timeout_seconds} s"
            ) from None
        except requests.RequestException as error:
            raise DeliveryError(
                f"webhook {self.name} at {self._display_url} failed: {type(error).__name__}"
            ) from None

        status = response.status_code
        if 200 <= status < 300:
            return
        excerpt = response.text[:200].strip()
        permanent = status < 500 and status not in _TRANSIENT_STATUSES
        raise DeliveryError(
            f"webhook {self.name} at {self._display_url} returned HTTP {status}: {excerpt!r}",
            permanent=permanent,
        )
