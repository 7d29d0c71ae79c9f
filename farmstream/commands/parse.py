"""`farmstream parse`: print the events parsed from one saved portal exchange, as JSON lines.

The file is an object with ``request`` and ``response``, like the captures of the portal. Standard
output gets one JSON event per line: readings, house statuses and dead letters. Files that carry
no readings (JsGlobals, GetFarmRegistration, GetComparisonDisplayFields, GetHouseData) print no
events. A note on standard error names the service of the file, with the account's units for
JsGlobals.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from farmstream.cli import CommandError
from producers.capture import parse_capture, units_of_js_globals
from producers.envelope import read_envelope
from producers.exceptions import PayloadError
from producers.units import METRIC, UnitSettings

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "parse",
        help="Print the events parsed from one saved portal response as JSON lines.",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="JSON file with request and response of one portal call.")
    parser.add_argument(
        "--farm-id", default="capture", help="farm_id to put in the events (default: capture)."
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="IANA time zone of the farm, for controller clock times (default: UTC).",
    )
    parser.add_argument(
        "--fetched-at",
        help="Fetch time to use, ISO 8601 with offset (default: now). Sets the date of HH:MM clock times.",
    )
    parser.add_argument(
        "--units-from",
        type=Path,
        help="A saved JsGlobals_GetJsGlobals response whose UserInfo gives the account's units. Without it "
        "the portal's metric settings are assumed for values that carry no unit sign.",
    )
    parser.set_defaults(func=_run)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise CommandError(
            f"invalid JSON in {path}: {error}; expected an object with request and response"
        ) from error


def _units(path: Path | None) -> UnitSettings:
    if path is None:
        return METRIC
    document = _read_json(path)
    response = document.get("response") if isinstance(document, dict) else None
    units = units_of_js_globals(read_envelope(response).payload) if isinstance(response, dict) else None
    if units is None:
        raise CommandError(
            f"no UserInfo unit settings in {path}: pass a saved JsGlobals_GetJsGlobals response"
        )
    return units


def _run(arguments: argparse.Namespace) -> int:
    try:
        zone = ZoneInfo(arguments.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CommandError(
            f"unknown time zone {arguments.timezone!r}: use an IANA name such as America/Chicago"
        ) from error
    fetched_at = datetime.now(UTC)
    if arguments.fetched_at:
        try:
            fetched_at = datetime.fromisoformat(arguments.fetched_at)
        except ValueError as error:
            raise CommandError(f"invalid --fetched-at {arguments.fetched_at!r}: expected ISO 8601") from error
        if fetched_at.tzinfo is None:
            raise CommandError(f"invalid --fetched-at {arguments.fetched_at!r}: add an offset such as +00:00")

    document = _read_json(arguments.file)
    try:
        result = parse_capture(
            document,
            farm_id=arguments.farm_id,
            timezone=zone,
            fetched_at=fetched_at,
            units=_units(arguments.units_from),
        )
    except PayloadError as error:
        raise CommandError(f"cannot parse {arguments.file}: {error}") from error

    for event in result.events:
        sys.stdout.write(event.model_dump_json() + "\n")
    if result.note:
        logger.info("%s: %s", result.method, result.note, extra={"file": str(arguments.file)})
    return 0
