"""Unit tests of the alert state machine (pure, no broker)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

from schemas.events import ALERT_RULES, Alert
from stream_processors.alerts import AlertKey, AlertMachine, AlertPolicy, Condition
from stream_processors.core import DEFAULT_POLICIES

KEY = AlertKey("farm-a", 1, "temperature.average", "temperature_off_target")
T0 = datetime(2026, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ON = Condition(active=True, severity="warning", value=31.0)
CRITICAL = Condition(active=True, severity="critical", value=36.0)
OFF = Condition(active=False)


def _run(machine: AlertMachine, policy: AlertPolicy, steps: list[tuple[int, Condition]]) -> list[Alert]:
    alerts: list[Alert] = []
    for minute, condition in steps:
        alerts += machine.step(KEY, policy, condition, T0 + minute * MINUTE)
    return alerts


def test_pending_period_delays_opening() -> None:
    policy = AlertPolicy(pending_seconds=600)
    alerts = _run(AlertMachine(), policy, [(0, ON), (5, ON), (10, ON)])
    assert [alert.state for alert in alerts] == ["open"]
    assert alerts[0].event_time == T0 + 10 * MINUTE


def test_short_blip_never_opens() -> None:
    policy = AlertPolicy(pending_seconds=600)
    assert _run(AlertMachine(), policy, [(0, ON), (5, OFF), (10, ON), (15, OFF)]) == []


def test_resolution_after_clear_period() -> None:
    policy = AlertPolicy(clear_seconds=600)
    alerts = _run(AlertMachine(), policy, [(0, ON), (5, OFF), (10, OFF), (15, OFF)])
    assert [alert.state for alert in alerts] == ["open", "resolved"]
    assert alerts[1].resolved_at == T0 + 15 * MINUTE
    assert alerts[1].alert_id == alerts[0].alert_id
    assert alerts[1].sequence == 1


def test_reminders_while_open() -> None:
    policy = AlertPolicy(reminder_seconds=3600)
    steps = [(minute, ON) for minute in range(0, 130, 5)]
    alerts = _run(AlertMachine(), policy, steps)
    assert [alert.state for alert in alerts] == ["open", "reminder", "reminder"]
    assert [alert.sequence for alert in alerts] == [0, 1, 2]


def test_escalation_sends_transition() -> None:
    alerts = _run(AlertMachine(), AlertPolicy(), [(0, ON), (5, CRITICAL), (10, CRITICAL)])
    assert [(alert.state, alert.severity) for alert in alerts] == [
        ("open", "warning"),
        ("reminder", "critical"),
    ]


def test_cooldown_blocks_reopening() -> None:
    policy = AlertPolicy(cooldown_seconds=3600)
    steps = [(0, ON), (5, OFF), (10, ON), (50, ON), (70, ON)]
    alerts = _run(AlertMachine(), policy, steps)
    assert [alert.state for alert in alerts] == ["open", "resolved", "open"]
    assert alerts[2].event_time == T0 + 70 * MINUTE
    assert alerts[2].alert_id != alerts[0].alert_id


def test_redelivered_evaluation_ignored() -> None:
    machine = AlertMachine()
    policy = AlertPolicy()
    first = _run(machine, policy, [(0, ON), (5, OFF)])
    assert _run(machine, policy, [(0, ON), (5, OFF), (3, ON)]) == []
    assert len(first) == 2


def test_ids_are_deterministic() -> None:
    policy = AlertPolicy(clear_seconds=0)
    first = _run(AlertMachine(), policy, [(0, ON), (5, OFF)])
    second = _run(AlertMachine(), policy, [(0, ON), (5, OFF)])
    assert [alert.event_id for alert in first] == [alert.event_id for alert in second]
    expected = Alert.make_alert_id(KEY.farm_id, KEY.house_number, KEY.subject, KEY.rule, T0)
    assert first[0].alert_id == expected
    assert first[1].event_id == Alert.make_event_id(expected, 1)


def test_restored_machine_continues() -> None:
    policy = AlertPolicy(clear_seconds=0)
    machine = AlertMachine()
    opened = _run(machine, policy, [(0, ON)])
    restored = pickle.loads(pickle.dumps(machine))  # noqa: S301 - own data
    assert _run(restored, policy, [(0, ON)]) == []
    resolved = _run(restored, policy, [(5, OFF)])
    assert [alert.state for alert in resolved] == ["resolved"]
    assert resolved[0].alert_id == opened[0].alert_id


def test_rule_catalogue_matches_policies() -> None:
    # Alert consumers check their routing against ALERT_RULES, so every rule the core raises is in it.
    assert set(DEFAULT_POLICIES) == ALERT_RULES
