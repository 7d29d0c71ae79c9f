"""The portal's response envelope: BOM, JSON, ``reponseObj`` and the success flags.

Every service returns HTTP 200 with ``{"reponseObj": ..., "ErrorObj": ..., "exceptionMessage": ...,
"isInSession": ..., "isAuthorize": ..., "isSucceed": ..., "contextId": ...}``. The payload key is
spelt ``reponseObj`` by the real portal; ``responseObj`` is accepted too. Bodies may start with a
UTF-8 byte order mark.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from producers.exceptions import PayloadError, SessionExpiredError, TransientPortalError

_BOM = b"\xef\xbb\xbf"
PAYLOAD_KEYS = ("reponseObj", "responseObj")


@dataclass(frozen=True)
class Envelope:
    """A decoded response: its payload and flags (None where the portal left a flag out)."""

    payload: Any
    is_succeed: bool | None
    is_authorize: bool | None
    is_in_session: bool | None
    error_message: str | None

    def has_payload_key(self) -> bool:
        """Return True when the payload is not None."""
        return self.payload is not None


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def decode_json(raw: bytes) -> Any:
    """Decode a response body, skipping a UTF-8 BOM; PayloadError with the raw bytes if it is not JSON."""
    body = raw[len(_BOM) :] if raw.startswith(_BOM) else raw
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"invalid JSON in response body: {error}", raw) from error


def read_envelope(document: Any, raw: bytes = b"") -> Envelope:
    """Read the envelope of a decoded body; PayloadError if it is not an object."""
    if not isinstance(document, Mapping):
        raise PayloadError(
            f"invalid response envelope: expected a JSON object, got {type(document).__name__}", raw
        )
    payload = next((document[key] for key in PAYLOAD_KEYS if key in document), None)
    messages: list[str] = []
    error = document.get("ErrorObj")
    if isinstance(error, Mapping) and error.get("ErrorMessage"):
        messages.append(f"{error.get('ErrorMessage')} (ErrorCode {error.get('ErrorCode')})")
    if document.get("exceptionMessage"):
        messages.append(str(document.get("exceptionMessage")))
    return Envelope(
        payload=payload,
        is_succeed=_flag(document.get("isSucceed")),
        is_authorize=_flag(document.get("isAuthorize")),
        is_in_session=_flag(document.get("isInSession")),
        error_message="; ".join(messages) or None,
    )


def check_envelope(envelope: Envelope, method: str) -> Any:
    """Return the payload of a successful call, else raise SessionExpiredError or TransientPortalError."""
    if envelope.is_authorize is False or envelope.is_in_session is False:
        raise SessionExpiredError(
            f"{method}: the portal reported isAuthorize={envelope.is_authorize} "
            f"isInSession={envelope.is_in_session}; a new login is needed"
        )
    if envelope.is_succeed is False:
        raise TransientPortalError(
            f"{method}: the portal reported isSucceed=false: {envelope.error_message or 'no error message'}"
        )
    return envelope.payload


def unwrap(raw: bytes, method: str) -> Any:
    """Decode a body and return its payload after checking the envelope flags."""
    return check_envelope(read_envelope(decode_json(raw), raw), method)
