"""The alert state machine: one instance per (farm, house, subject, rule).

Each event-time evaluation of a rule gives a :class:`Condition` (active or not, with a
severity). The machine turns the sequence of conditions into alert transitions. An alert opens
once the condition has been active for the pending period. While open it sends reminders and
may escalate its severity, and it resolves once the condition has been clear for the clear
period. After a resolution the same key cannot open again until the cooldown has passed.

Ids are deterministic (:meth:`Alert.make_alert_id`, :meth:`Alert.make_event_id`) and an evaluation
at or before the last evaluated event time is ignored, so replaying inputs against a restored
machine emits nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from schemas.events import Alert, Severity

SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class AlertPolicy:
    """Timing of one rule's alerts, in seconds of event time."""

    pending_seconds: float = 0.0
    clear_seconds: float = 0.0
    cooldown_seconds: float = 3600.0
    reminder_seconds: float = 4 * 3600.0

    def __post_init__(self) -> None:
        for name in ("pending_seconds", "clear_seconds", "cooldown_seconds", "reminder_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")


class AlertKey(NamedTuple):
    """The identity of an alert: farm, house, subject and rule.

    A named tuple rather than a dataclass: one is built and hashed for every reading.
    """

    farm_id: str
    house_number: int | None
    subject: str
    rule: str


@dataclass(slots=True)
class Condition:
    """One evaluation of a rule: whether it fires, how badly, and the facts behind it.

    Not frozen: a rule builds one for every reading it judges, and a frozen dataclass takes three
    times as long to build. Nothing changes a condition after it is built.
    """

    active: bool
    severity: Severity = "warning"
    title: str = ""
    message: str = ""
    value: float | None = None
    expected: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class AlertMachine:
    """The state of one alert key; plain fields so it pickles into a checkpoint."""

    last_at: datetime | None = None
    active_since: datetime | None = None
    clear_since: datetime | None = None
    alert_id: str | None = None
    opened_at: datetime | None = None
    sequence: int = 0
    severity: Severity = "warning"
    last_sent_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.alert_id is not None

    def step(self, key: AlertKey, policy: AlertPolicy, condition: Condition, at: datetime) -> list[Alert]:
        """Advance the machine with one evaluation at event time ``at`` and return its transitions."""
        if self.last_at is not None and at <= self.last_at:
            return []
        self.last_at = at
        if condition.active:
            return self._step_active(key, policy, condition, at)
        return self._step_clear(key, policy, condition, at)

    def _step_active(
        self, key: AlertKey, policy: AlertPolicy, condition: Condition, at: datetime
    ) -> list[Alert]:
        self.clear_since = None
        if self.active_since is None:
            self.active_since = at
        if not self.is_open:
            if self.resolved_at is not None and at - self.resolved_at < timedelta(
                seconds=policy.cooldown_seconds
            ):
                return []
            if at - self.active_since < timedelta(seconds=policy.pending_seconds):
                return []
            self.alert_id = Alert.make_alert_id(key.farm_id, key.house_number, key.subject, key.rule, at)
            self.opened_at = at
            self.sequence = 0
            self.severity = condition.severity
            self.last_sent_at = at
            return [self._transition(key, condition, "open", at)]
        escalated = SEVERITY_RANK[condition.severity] > SEVERITY_RANK[self.severity]
        assert self.last_sent_at is not None
        due = at - self.last_sent_at >= timedelta(seconds=policy.reminder_seconds)
        if not (escalated or due):
            return []
        if escalated:
            self.severity = condition.severity
        self.sequence += 1
        self.last_sent_at = at
        return [self._transition(key, condition, "reminder", at)]

    def _step_clear(
        self, key: AlertKey, policy: AlertPolicy, condition: Condition, at: datetime
    ) -> list[Alert]:
        self.active_since = None
        if not self.is_open:
            return []
        if self.clear_since is None:
            self.clear_since = at
        if at - self.clear_since < timedelta(seconds=policy.clear_seconds):
            return []
        self.sequence += 1
        alert = self._transition(key, condition, "resolved", at)
        self.alert_id = None
        self.opened_at = None
        self.clear_since = None
        self.resolved_at = at
        return [alert]

    def _transition(self, key: AlertKey, condition: Condition, state: str, at: datetime) -> Alert:
        assert self.alert_id is not None and self.opened_at is not None
        evidence = dict(condition.evidence)
        if self.active_since is not None:
            evidence.setdefault("condition_since", self.active_since.isoformat())
        return Alert(
            event_id=Alert.make_event_id(self.alert_id, self.sequence),
            alert_id=self.alert_id,
            sequence=self.sequence,
            state=state,  # type: ignore[arg-type]
            severity=self.severity,
            rule=key.rule,
            farm_id=key.farm_id,
            house_number=key.house_number,
            subject=key.subject,
            title=condition.title or f"{key.rule} on {key.subject}",
            message=condition.message or f"{key.rule} on {key.subject}",
            value=condition.value,
            expected=condition.expected,
            opened_at=self.opened_at,
            event_time=at,
            resolved_at=at if state == "resolved" else None,
            evidence=evidence,
        )
