"""Unit tests of value decoding: numbers, sentinels, state words, clock times and runtimes."""

from __future__ import annotations

import pytest

from producers.exceptions import InvalidValueError
from producers.values import (
    parse_bool,
    parse_clock,
    parse_device_count,
    parse_integer,
    parse_number,
    parse_runtime_seconds,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("27.65", 27.65),
        ("24", 24.0),
        ("-3.5", -3.5),
        ("115,532", 115532.0),
        ("1,234,567.5", 1234567.5),
        (29.83, 29.83),
        (0, 0.0),
    ],
)
def test_number_decodes_portal_strings(raw: object, expected: float) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "- - -",
        "-9999",
        "-9999.0",
        -9999.0,
        "-8888",
        -8888,
        "N/A",
        "LangKey_NA",
        "LangKey_Off",
        "$LangKey_On",
        "LangKey_ParametersOnly_3||$LangKey_Off||/||- - -",
    ],
)
def test_sentinels_have_no_value(raw: object) -> None:
    assert parse_number(raw) is None


def test_composite_reads_last_part() -> None:
    assert parse_number("LangKey_ParametersOnly_3||$LangKey_On||/||12") == 12.0


@pytest.mark.parametrize("raw", ["abc", "12,5", "1.2.3", "29.7 C", True, [1], "1,23"])
def test_invalid_number_raises(raw: object) -> None:
    with pytest.raises(InvalidValueError):
        parse_number(raw)


def test_device_off_means_zero_running() -> None:
    assert parse_device_count("LangKey_Off") == 0.0
    assert parse_device_count("2") == 2.0
    assert parse_device_count("LangKey_On") is None
    assert parse_device_count("") is None


def test_runtime_hh_mm_to_seconds() -> None:
    assert parse_runtime_seconds("10:55") == 10 * 3600 + 55 * 60
    assert parse_runtime_seconds("00:00") == 0.0
    assert parse_runtime_seconds("1:02:03") == 3723.0
    assert parse_runtime_seconds("") is None
    with pytest.raises(InvalidValueError):
        parse_runtime_seconds("7")


def test_clock_and_booleans() -> None:
    assert parse_clock("12:23") == (12, 23)
    assert parse_clock("") is None
    with pytest.raises(InvalidValueError):
        parse_clock("25:00")
    assert parse_bool("False") is False
    assert parse_bool("TRUE") is True
    assert parse_bool("") is None
    with pytest.raises(InvalidValueError):
        parse_bool("maybe")


def test_integer_rejects_fraction() -> None:
    assert parse_integer("-1.0") == -1
    with pytest.raises(InvalidValueError):
        parse_integer("21.5")
