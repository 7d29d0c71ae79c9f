"""Unit tests of the reliability report's Markdown on hand-made results (no services run)."""

from __future__ import annotations

from farmstream.reliability import SCENARIOS, ScenarioResult
from farmstream.reliability_checks import Check, Figures
from farmstream.reliability_report import render_report


def _result(passed: bool) -> ScenarioResult:
    figures = Figures(readings_on_topic=1200, reading_rows=1200, distinct_row_ids=1200)
    figures.checks.append(Check("no reading missing", passed, "1200 on the topic, 0 missing"))
    return ScenarioResult(SCENARIOS["kill_sink"], figures, load_averages=(3.4, 7.5))


def test_report_row_shows_load() -> None:
    report = render_report([_result(True)], "farmstream reliability", 2, 90.0, (2.0, 7.5))

    row = next(line for line in report.splitlines() if line.startswith("| kill_sink |"))
    assert row.endswith("| 3.4 / 7.5 | pass |")
    assert "1-minute load average 2.0 at the start and 7.5 at the end" in report


def test_report_marks_failed_check() -> None:
    report = render_report([_result(False)], "farmstream reliability", 2, 90.0, (2.0, 7.5))

    assert "- **FAIL** no reading missing: 1200 on the topic, 0 missing" in report
    assert "| **FAIL** |" in report
