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
    parse_instant,
)

T0 = datetime(2026, 4, 24, 17, 15, tzinfo=UTC)
T1 = datetime(2026, 4, 24, 17, 20, tzinfo=UTC)


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
