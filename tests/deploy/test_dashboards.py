"""Provisioned Grafana dashboards: structure, and every panel's SQL run on both database lanes.

Grafana is not installed here, so the test expands the macros and template variables the way the
PostgreSQL datasource does: $__timeFilter becomes BETWEEN, a multi-value variable a quoted list.
Each query then runs against a migrated database that contains the seeded farm dataset. PromQL panels are
checked by promtool as recording rules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.api.api_dataset import T0
from tests.deploy.conftest import SeededDatabase

DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
DASHBOARDS = sorted(DASHBOARD_DIR.glob("*.json"))
SQL_DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "timescaledb"}
PROMETHEUS_UID = "prometheus"

RANGE_START = T0 - timedelta(days=1)
RANGE_END = T0 + timedelta(days=1)
SELECTED_PARAMETERS = ("temperature.average", "static_pressure")

# Column a time-series query must return, so Grafana can plot it.
TIME_COLUMN = "time"


@dataclass(frozen=True)
class Query:
    """One SQL text of a dashboard: a panel target, a template variable or an annotation."""

    dashboard: str
    where: str
    sql: str
    format: str

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.where}"


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # panels folded inside a row
    return panels


def _sql_queries() -> list[Query]:
    queries = []
    for path in DASHBOARDS:
        dashboard = _load(path)
        for panel in _panels(dashboard):
            for target in panel.get("targets", []):
                if target.get("datasource", panel.get("datasource", {})).get("uid") == SQL_DATASOURCE["uid"]:
                    where = f"panel {panel['title']!r} target {target['refId']}"
                    queries.append(Query(path.name, where, target["rawSql"], target["format"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                queries.append(Query(path.name, f"variable {variable['name']}", variable["query"], "table"))
        for annotation in dashboard.get("annotations", {}).get("list", []):
            if annotation.get("datasource", {}).get("uid") == SQL_DATASOURCE["uid"]:
                queries.append(
                    Query(path.name, f"annotation {annotation['name']}", annotation["rawQuery"], "table")
                )
    return queries


def _prometheus_expressions() -> list[tuple[str, str]]:
    expressions = []
    for path in DASHBOARDS:
        for panel in _panels(_load(path)):
            for target in panel.get("targets", []):
                if target.get("datasource", {}).get("uid") == PROMETHEUS_UID:
                    expressions.append((f"{path.name}: {panel['title']}", target["expr"]))
    return expressions


def expand(sql: str, farm_id: str, house_number: int) -> str:
    """Expand Grafana's macros and this test's variable values as the PostgreSQL datasource does."""
    start = RANGE_START.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = RANGE_END.strftime("%Y-%m-%dT%H:%M:%SZ")
    expanded = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN '{start}' AND '{end}'", sql)
    expanded = expanded.replace("$__timeFrom()", f"'{start}'").replace("$__timeTo()", f"'{end}'")
    # A multi-value variable becomes a quoted, comma-separated list; a single value is inserted raw.
    expanded = re.sub(r"\$\{?parameter\}?", ",".join(f"'{name}'" for name in SELECTED_PARAMETERS), expanded)
    expanded = re.sub(r"\$\{?farm\}?", farm_id, expanded)
    return re.sub(r"\$\{?house\}?", str(house_number), expanded)


QUERIES = _sql_queries()


def test_dashboards_exist() -> None:
    names = {path.stem for path in DASHBOARDS}
    assert names == {"farm-overview", "house-detail", "detection-insights", "pipeline-health"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_structure(path: Path) -> None:
    dashboard = _load(path)
    assert dashboard["uid"].startswith("farmstream-")
    assert dashboard["title"]
    assert dashboard["description"]
    panels = _panels(dashboard)
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels:
        assert panel["title"], panel
        assert panel.get("description"), f"panel {panel['title']!r} has no description"
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        for target in panel["targets"]:
            datasource = target.get("datasource", panel["datasource"])
            assert datasource["uid"] in {SQL_DATASOURCE["uid"], PROMETHEUS_UID}, panel["title"]
            if datasource["uid"] == SQL_DATASOURCE["uid"]:
                assert datasource == SQL_DATASOURCE
                assert target["rawQuery"] is True
                assert target["format"] in {"time_series", "table"}


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_dashboard_queries_expand_fully(query: Query) -> None:
    expanded = expand(query.sql, "farm-x", 1)
    assert "$" not in expanded, f"unexpanded macro or variable in {query}: {expanded}"
    if query.format == "time_series":
        assert "$__timeFilter" in query.sql, f"{query} ignores the dashboard's time range"


@pytest.mark.integration
@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_dashboard_query_runs(seeded_database: SeededDatabase, query: Query) -> None:
    """Every query runs on the lane and returns rows for the seeded farm and house."""
    dataset = seeded_database.dataset
    sql = expand(query.sql, dataset.north, 1)
    with psycopg.connect(seeded_database.url, autocommit=True, prepare_threshold=None) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        cursor = connection.execute(sql.encode())
        assert cursor.description is not None
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    assert rows, f"{query} returned no rows on the {seeded_database.lane} lane"
    if query.format == "time_series":
        assert columns[0] == TIME_COLUMN, f"{query}: the first column is {columns[0]!r}, not time"


@pytest.mark.integration
def test_house_readings_panel_matches_aggregate(seeded_database: SeededDatabase) -> None:
    """The target-curve panel returns one 5-minute average per reading of the selected parameters."""
    dataset = seeded_database.dataset
    query = next(
        q for q in QUERIES if "Readings against the target curve" in q.where and "target A" in q.where
    )
    with psycopg.connect(seeded_database.url, autocommit=True, prepare_threshold=None) as connection:
        rows = connection.execute(expand(query.sql, dataset.north, 1).encode()).fetchall()
    expected = {
        (row.observed_at, row.parameter): row.value
        for row in dataset.readings
        if row.controller_id == dataset.controller(dataset.north, 1)
        and row.parameter in SELECTED_PARAMETERS
        and row.period == "instant"
    }
    assert {(time, metric): value for time, metric, value in rows} == pytest.approx(expected)


@pytest.mark.integration
def test_pipeline_readings_panel_counts_rows(seeded_database: SeededDatabase) -> None:
    dataset = seeded_database.dataset
    query = next(q for q in QUERIES if "Readings stored per 5 minutes" in q.where)
    with psycopg.connect(seeded_database.url, autocommit=True, prepare_threshold=None) as connection:
        rows = connection.execute(expand(query.sql, dataset.north, 1).encode()).fetchall()
    per_farm: dict[str, int] = {}
    for _, farm_id, count in rows:
        per_farm[farm_id] = per_farm.get(farm_id, 0) + int(count)
    for farm_id in (dataset.north, dataset.south):
        expected = sum(1 for row in dataset.readings if row.farm_id == farm_id and row.period == "instant")
        assert per_farm[farm_id] == expected


def test_prometheus_panels_parse(tmp_path: Path) -> None:
    """promtool accepts every PromQL expression of the dashboards, loaded as recording rules."""
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool not found: install it with `apt-get install -y prometheus`"
    expressions = _prometheus_expressions()
    assert expressions
    lines = ["groups:", "  - name: dashboard-panels", "    rules:"]
    for index, (_, expression) in enumerate(expressions):
        lines.append(f"      - record: farmstream:dashboard_panel_{index}")
        lines.append(f"        expr: {json.dumps(expression)}")
    rules = tmp_path / "panels.yml"
    rules.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
