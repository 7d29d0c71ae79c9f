"""Unit tests of the reliability suite's checks on hand-made events (no broker, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from farmstream.reliability_checks import (
    Figures,
    ServedSteps,
    _overlapping_episodes,
    check_house_steps,
    check_webhook,
    false_device_alerts,
    fault_episodes,
    parse_instant,
)

T0 = datetime(2026, 4, 24, 17, 15, tzinfo=UTC)
T1 = datetime(2026, 4, 24, 17, 20, tzinfo=UTC)
FAULT = {
    "farm_id": "farm-1",
    "house": 2,
    "kind": "controller_offline",
    "start": "2026-04-24T17:20:00+00:00",
    "end": "2026-04-24T18:00:00+00:00",
}


def _transition(
    alert_id: str, sequence: int, state: str, opened: str, resolved: str | None = None
) -> dict[str, Any]:
    return {
        "event_id": f"{alert_id}-{sequence}",
        "alert_id": alert_id,
        "sequence": sequence,
        "state": state,
        "farm_id": "farm-1",
        "house_number": 2,
        "subject": "controller",
        "rule": "controller_offline",
        "opened_at": opened,
        "resolved_at": resolved,
    }


def test_portal_instant_seven_digits() -> None:
    assert parse_instant("2026-04-24T17:15:00.0000000+00:00") == T0


def test_served_steps_skip_cut_body() -> None:
    served = ServedSteps({"farm-1": 2})
    body = json.dumps({"reponseObj": {"LastUpdateDT": "2026-04-24T17:15:00.0000000+00:00"}}).encode()

    served.record("farm-1", body)
    served.record("farm-1", body.replace(b"17:15", b"17:20")[:-2])

    assert served.house_steps() == {("farm-1", 1, T0), ("farm-1", 2, T0)}


def test_house_steps_skip_reported() -> None:
    served = {("farm-1", 1, T0), ("farm-1", 1, T1)}
    scraped = {("farm-1", 1, T0)}

    allowed, strict = Figures(), Figures()
    check_house_steps(allowed, served, scraped, may_skip=True)
    check_house_steps(strict, served, scraped, may_skip=False)

    assert allowed.house_steps_skipped == 1
    assert allowed.checks[0].passed
    assert not strict.checks[0].passed


def test_house_steps_never_served_fail() -> None:
    figures = Figures()

    check_house_steps(figures, {("farm-1", 1, T0)}, {("farm-1", 1, T0), ("farm-1", 1, T1)}, may_skip=True)

    assert not figures.checks[0].passed


def test_webhook_second_delivery_fails() -> None:
    transitions = [_transition("a", 0, "open", T0.isoformat())]
    once, twice = Figures(), Figures()

    check_webhook(once, ["a-0"], transitions)
    check_webhook(twice, ["a-0", "a-0"], transitions)

    assert once.checks[0].passed
    assert not twice.checks[0].passed


def test_overlapping_episodes_found() -> None:
    first = _transition("a", 0, "open", T0.isoformat())
    second = _transition("b", 0, "open", T1.isoformat())

    assert _overlapping_episodes([first, second]) == [("farm-1", "2", "controller", "controller_offline")]


def test_resolved_episodes_not_overlapping() -> None:
    first = _transition("a", 0, "open", T0.isoformat())
    resolved = _transition("a", 1, "resolved", T0.isoformat(), T1.isoformat())
    second = _transition("b", 0, "open", T1.isoformat())

    assert _overlapping_episodes([first, resolved, second]) == []


def test_fault_episode_opened_before_start() -> None:
    opened = _transition("a", 0, "open", "2026-04-24T17:15:00.5+00:00")
    resolved = _transition("a", 1, "resolved", opened["opened_at"], "2026-04-24T18:00:00+00:00")

    assert fault_episodes([opened, resolved], FAULT) == [parse_instant(opened["opened_at"])]


def test_fault_episode_needs_overlap_and_rule() -> None:
    before = _transition("a", 0, "open", T0.isoformat())
    before_end = _transition("a", 1, "resolved", T0.isoformat(), "2026-04-24T17:19:00+00:00")
    other_rule = {**_transition("b", 0, "open", T1.isoformat()), "rule": "controller_stale"}
    after = _transition("c", 0, "open", "2026-04-24T18:05:00+00:00")

    assert fault_episodes([before, before_end, other_rule, after], FAULT) == []


def test_device_alert_elsewhere_is_false() -> None:
    fault_house = _transition("a", 0, "open", T1.isoformat())
    other_house = {**_transition("b", 0, "open", T1.isoformat()), "house_number": 3}
    sensor = {**other_house, "alert_id": "c", "rule": "sensor_failed", "subject": "General.CO2"}
    ammonia = {**other_house, "alert_id": "d", "rule": "ammonia_over_limit", "subject": "ammonia"}

    found = false_device_alerts([fault_house, other_house, sensor, ammonia], FAULT)

    assert found == [
        ("farm-1", "3", "controller_offline", "controller"),
        ("farm-1", "3", "sensor_failed", "General.CO2"),
    ]
