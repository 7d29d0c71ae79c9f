"""Unit tests of routing rules: farm, minimum severity, alert rule names and states."""

from __future__ import annotations

from notifier.config import RoutingRule
from notifier.routing import Route, routes_for, rule_matches
from tests.notifier.helpers import make_alert


def _rule(**fields: object) -> RoutingRule:
    return RoutingRule.model_validate({"name": "r", "channels": ["hook"], **fields})


def test_wildcard_rule_matches_everything() -> None:
    rule = _rule()
    for severity in ("info", "warning", "critical"):
        for state in ("open", "reminder", "resolved"):
            assert rule_matches(rule, make_alert(severity=severity, state=state))


def test_farm_list_filters_farms() -> None:
    rule = _rule(farms=["north-ridge", "south-creek"])
    assert rule_matches(rule, make_alert(farm_id="south-creek"))
    assert not rule_matches(rule, make_alert(farm_id="east-hill"))


def test_minimum_severity_is_inclusive() -> None:
    rule = _rule(min_severity="warning")
    assert not rule_matches(rule, make_alert(severity="info"))
    assert rule_matches(rule, make_alert(severity="warning"))
    assert rule_matches(rule, make_alert(severity="critical"))


def test_alert_rule_names_filter() -> None:
    rule = _rule(alert_rules=["controller_offline"])
    assert rule_matches(rule, make_alert(rule="controller_offline"))
    assert not rule_matches(rule, make_alert(rule="temperature_off_target"))


def test_states_filter_reminders_out() -> None:
    rule = _rule(states=["open", "resolved"])
    assert not rule_matches(rule, make_alert(state="reminder", sequence=1))
    assert rule_matches(rule, make_alert(state="resolved", sequence=2))


def test_routes_deduplicate_channels_in_rule_order() -> None:
    rules = [
        _rule(name="critical", min_severity="critical", channels=["pager", "hook"]),
        _rule(name="everything", channels=["hook", "email"]),
    ]
    routes = routes_for(make_alert(severity="critical"), rules)
    assert routes == [
        Route(rule="critical", channel="pager"),
        Route(rule="critical", channel="hook"),
        Route(rule="everything", channel="email"),
    ]


def test_no_matching_rule_gives_no_routes() -> None:
    rules = [_rule(farms=["east-hill"])]
    assert routes_for(make_alert(farm_id="north-ridge"), rules) == []
