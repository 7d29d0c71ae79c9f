"""Parse one saved portal exchange (an object with ``request`` and ``response``) into events.

The request names the service that was called and, for ``RNBL_GetCommandData``, which command and
house. Services that carry no readings (``JsGlobals_GetJsGlobals``, ``GetFarmRegistration``,
``GetComparisonDisplayFields``, ``GetHouseData``, ``Login``) give no events.
For ``JsGlobals_GetJsGlobals`` the account's unit settings are returned in ``units``, for the
caller to report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from producers.envelope import read_envelope
from producers.exceptions import PayloadError, UnitError
from producers.parser import (
    ParseContext,
    build_command,
    build_site_info,
)
from producers.site_info import read_site_info
from producers.tables import read_command_data
from producers.units import UnitSettings
from schemas.events import DeadLetter, HouseStatus, Reading

Event = Reading | HouseStatus | DeadLetter


@dataclass
class CaptureResult:
    """Events parsed from one capture, and what the capture was."""

    method: str
    events: list[Event] = field(default_factory=list)
    units: UnitSettings | None = None
    note: str = ""


def capture_method(request: Mapping[str, Any]) -> str:
    """Return the service name of a captured request, the last segment of its URL."""
    url = request.get("url")
    if not isinstance(url, str) or not url:
        raise PayloadError("capture request has no url: expected request.url naming the service")
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _command_parameters(request: Mapping[str, Any]) -> tuple[int, int]:
    body = request.get("body")
    if isinstance(body, str):
        body = json.loads(body)
    parameters = body.get("prmGetCommandDataParams") if isinstance(body, Mapping) else None
    if not isinstance(parameters, Mapping):
        raise PayloadError("RNBL_GetCommandData capture has no request.body.prmGetCommandDataParams")
    try:
        return int(parameters["CommandID"]), int(parameters["HouseNumber"])
    except (KeyError, TypeError, ValueError) as error:
        raise PayloadError(f"invalid CommandID or HouseNumber in the capture request: {error}") from error


def units_of_js_globals(payload: object) -> UnitSettings | None:
    """Return the account's unit settings from a ``JsGlobals_GetJsGlobals`` payload, if it has them."""
    if not isinstance(payload, Mapping):
        return None
    user_info = payload.get("UserInfo")
    if not isinstance(user_info, Mapping):
        return None
    try:
        return UnitSettings.from_user_info(user_info)
    except UnitError:
        return None


def parse_capture(
    document: object, *, farm_id: str, timezone: tzinfo, fetched_at: datetime, units: UnitSettings
) -> CaptureResult:
    """Parse a capture into readings, house statuses and dead letters."""
    if not isinstance(document, Mapping) or not isinstance(document.get("request"), Mapping):
        raise PayloadError("invalid capture: expected an object with request and response")
    request: Mapping[str, Any] = document["request"]
    method = capture_method(request)
    envelope = read_envelope(document.get("response"))
    if envelope.is_succeed is False:
        raise PayloadError(
            f"the captured {method} call failed: {envelope.error_message or 'isSucceed false'}"
        )
    context = ParseContext(farm_id=farm_id, timezone=timezone, fetched_at=fetched_at, units=units)
    result = CaptureResult(method=method)

    if method == "GetSiteControllersInfo":
        for house in build_site_info(read_site_info(envelope.payload), context):
            result.events.extend(house.readings)
            result.events.append(house.status(context))
            result.events.extend(house.dead_letters)
    elif method == "RNBL_GetCommandData":
        command_id, house_number = _command_parameters(request)
        house = build_command(
            read_command_data(envelope.payload),
            command_id=command_id,
            house_number=house_number,
            context=context,
        )
        result.events.extend(house.readings)
        if command_id == 0:
            result.events.append(house.status(context))
        result.events.extend(house.dead_letters)
    elif method == "JsGlobals_GetJsGlobals":
        result.units = units_of_js_globals(envelope.payload)
        result.note = "no readings; account units " + (
            result.units.describe() if result.units else "not stated"
        )
    else:
        result.note = "no readings in this service"
    return result
