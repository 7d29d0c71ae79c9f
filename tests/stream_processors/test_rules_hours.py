"""The controller's local hour and the dark period of the light program (pure functions)."""

from __future__ import annotations

import pytest

from stream_processors.rules import RuleLimits, is_night, local_hour


@pytest.mark.parametrize(
    ("controller_time", "hour"),
    [("04:05", 4), ("23:59", 23), ("00:00", 0), ("24:10", None), ("--:--", None), (None, None)],
)
def test_local_hour_parses_clock(controller_time: str | None, hour: int | None) -> None:
    assert local_hour(controller_time) == hour


def test_lights_decide_dark_period() -> None:
    limits = RuleLimits()
    assert is_night("12:00", 0.0, limits)
    assert not is_night("02:00", 1.0, limits)


def test_night_hours_without_lights() -> None:
    limits = RuleLimits()
    assert is_night("02:00", None, limits)
    assert not is_night("04:00", None, limits)
    assert not is_night(None, None, limits)
