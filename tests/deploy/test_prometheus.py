"""Prometheus configuration and alert rules: promtool checks, rule unit tests, and metric names.

promtool comes from Debian's ``prometheus`` package (``apt-get install -y prometheus``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from api.metrics import ApiMetrics
from notifier.metrics import NotifierMetrics
from producers.metrics import ScraperMetrics
from sinks.metrics import SinkMetrics
from stream_processors.metrics import AgentMetrics

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
TEST_FILES = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))


def _promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool not found: install it with `apt-get install -y prometheus`"
    return subprocess.run(
        [promtool, *arguments], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS_DIR
    )


def test_rule_files_pass_promtool_check() -> None:
    assert RULE_FILES
    result = _promtool("check", "rules", *(str(path) for path in RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    assert TEST_FILES
    result = _promtool("test", "rules", *(str(path) for path in TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config_passes_promtool_check() -> None:
    result = _promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_scrape_config_passes_promtool_check() -> None:
    result = _promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.compose.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config_targets_every_component() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [target for static in job["static_configs"] for target in static["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {
        "scraper": ["127.0.0.1:9101"],
        "agents": ["127.0.0.1:9102"],
        "sink": ["127.0.0.1:9103"],
        "notifier": ["127.0.0.1:9104"],
        "api": ["127.0.0.1:8000"],
    }


def _defined_metric_names() -> set[str]:
    registry = CollectorRegistry()
    ScraperMetrics(registry)
    SinkMetrics(registry)
    AgentMetrics(registry)
    ApiMetrics(registry)
    NotifierMetrics(registry)
    names = set()
    for family in registry.collect():
        for suffix in ("", "_total", "_bucket", "_count", "_sum", "_created"):
            names.add(family.name + suffix)
    return names


def test_rules_use_defined_metric_names() -> None:
    """Each farmstream_* name in a rule is defined by a component's metrics module."""
    defined = _defined_metric_names()
    for path in RULE_FILES:
        text = path.read_text()
        rules = [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]
        used = {name for rule in rules for name in re.findall(r"\bfarmstream_[a-z0-9_]+", rule["expr"])}
        unknown = used - defined
        assert not unknown, f"{path.name} uses metrics no component defines: {sorted(unknown)}"


@pytest.mark.parametrize(
    "alert",
    [
        "FarmstreamScraperFailing",
        "FarmstreamConsumerLagHigh",
        "FarmstreamSinkErrors",
        "FarmstreamAnomalyRateHigh",
    ],
)
def test_required_alerts_have_unit_tests(alert: str) -> None:
    tested = " ".join(path.read_text() for path in TEST_FILES)
    assert f"alertname: {alert}" in tested
