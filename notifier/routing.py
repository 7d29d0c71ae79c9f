"""Choose the channels of an alert state from the routing rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from notifier.config import RoutingRule
from schemas.events import Alert

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Route:
    """One channel an alert state goes to, and the first routing rule that selected it."""

    rule: str
    channel: str


def rule_matches(rule: RoutingRule, alert: Alert) -> bool:
    """Return whether a routing rule selects an alert state."""
    if rule.farms != "*" and alert.farm_id not in rule.farms:
        return False
    if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[rule.min_severity]:
        return False
    if rule.alert_rules != "*" and alert.rule not in rule.alert_rules:
        return False
    return alert.state in rule.states


def routes_for(alert: Alert, rules: Sequence[RoutingRule]) -> list[Route]:
    """Return the channels of an alert state, each once, in rule order then channel order."""
    routes: list[Route] = []
    chosen: set[str] = set()
    for rule in rules:
        if not rule_matches(rule, alert):
            continue
        for channel in rule.channels:
            if channel not in chosen:
                chosen.add(channel)
                routes.append(Route(rule=rule.name, channel=channel))
    return routes
