"""Decoding of the portal's value strings: numbers, sentinels, state words, clock times and runtimes.

Every rule about what a raw value means lives here, so the parsers stay generic:

* No value (not installed, not connected, not applicable): ``None``, ``""``, ``"- - -"``,
  ``"-9999"`` and ``"-8888"`` (also as JSON numbers, ``-9999.0`` in history rows), ``"N/A"`` and
  ``"LangKey_NA"``. Any other ``LangKey_*`` state word where a number is expected is also no value.
* Composite ``LangKey_ParametersOnly_N||a||b||c`` renders several parts ("Off / - - -" for the
  ammonia treatment and its reading); the reading is the last part, decoded by the same rules.
* Device counts: ``LangKey_Off`` means none of the devices is running, a real reading of 0.
  ``LangKey_On`` means some are running without a count, so it is no value.
* Numbers may carry comma thousands separators (``"115,532"``); any other comma is invalid.
* Runtimes are ``H:MM`` or ``H:MM:SS`` and become seconds; the clock is ``HH:MM``.

A value that matches none of these raises :class:`InvalidValueError`: it is never replaced by a default.
"""

from __future__ import annotations

import math
import re

from producers.exceptions import InvalidValueError

NO_VALUE_STRINGS = frozenset({"", "- - -", "-9999", "-9999.0", "-8888", "-8888.0", "N/A", "LangKey_NA"})
NO_VALUE_NUMBERS = frozenset({-9999.0, -8888.0})
DEVICE_OFF = "LangKey_Off"
COMPOSITE_PREFIX = "LangKey_ParametersOnly_"

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_RUNTIME = re.compile(r"(\d{1,3}):([0-5]\d)(?::([0-5]\d))?")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def _describe(raw: object) -> str:
    return repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:77] + "..."


def is_no_value(raw: object) -> bool:
    """Return True when the raw value is one of the portal's no-value sentinels."""
    try:
        return parse_number(raw) is None
    except InvalidValueError:
        return False


def parse_number(raw: object) -> float | None:
    """Decode a number sent as a string or a JSON number; None for a no-value sentinel."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InvalidValueError(f"invalid number {raw!r}: a boolean where a number is expected")
    if isinstance(raw, int | float):
        value = float(raw)
        if value in NO_VALUE_NUMBERS:
            return None
        if not math.isfinite(value):
            raise InvalidValueError(f"invalid number {raw!r}: not finite")
        return value
    if not isinstance(raw, str):
        raise InvalidValueError(f"invalid number {_describe(raw)}: expected a string or a number")

    text = raw.strip()
    if text in NO_VALUE_STRINGS:
        return None
    if text.startswith(COMPOSITE_PREFIX):
        parts = text.split("||")[1:]
        return parse_number(parts[-1].lstrip("$")) if parts else None
    if text.startswith(("LangKey_", "$LangKey_")):
        return None
    if _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    elif not _PLAIN_NUMBER.fullmatch(text):
        raise InvalidValueError(f"invalid number {_describe(raw)}: expected digits like 27.65 or 115,532")
    value = float(text)
    return None if value in NO_VALUE_NUMBERS else value


def parse_device_count(raw: object) -> float | None:
    """Decode a number of running devices; ``LangKey_Off`` is 0, ``LangKey_On`` is no value."""
    if isinstance(raw, str) and raw.strip().lstrip("$") == DEVICE_OFF:
        return 0.0
    return parse_number(raw)


def parse_integer(raw: object) -> int | None:
    """Decode a whole number such as a growth day or a mode code; None for no value."""
    value = parse_number(raw)
    if value is None:
        return None
    if not value.is_integer():
        raise InvalidValueError(f"invalid whole number {_describe(raw)}: has a fraction")
    return int(value)


def parse_runtime_seconds(raw: object) -> float | None:
    """Decode a runtime ``H:MM`` or ``H:MM:SS`` into seconds; None for no value."""
    if isinstance(raw, str):
        text = raw.strip()
        match = _RUNTIME.fullmatch(text)
        if match:
            hours, minutes, seconds = match.group(1), match.group(2), match.group(3) or "0"
            return float(int(hours) * 3600 + int(minutes) * 60 + int(seconds))
    value = parse_number(raw)
    if value is None:
        return None
    raise InvalidValueError(f"invalid runtime {_describe(raw)}: expected H:MM or H:MM:SS")


def parse_clock(raw: object) -> tuple[int, int] | None:
    """Decode the controller's clock ``HH:MM`` into (hour, minute); None for no value."""
    if isinstance(raw, str):
        match = _CLOCK.fullmatch(raw.strip())
        if match:
            return int(match.group(1)), int(match.group(2))
    if parse_number(raw) is None:
        return None
    raise InvalidValueError(f"invalid clock time {_describe(raw)}: expected HH:MM")


def parse_bool(raw: object) -> bool | None:
    """Decode the portal's ``"True"``/``"False"`` strings (any case); None for no value."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
        if raw.strip() in NO_VALUE_STRINGS or raw.strip().startswith("LangKey_"):
            return None
    if raw is None:
        return None
    raise InvalidValueError(f"invalid boolean {_describe(raw)}: expected True or False")
