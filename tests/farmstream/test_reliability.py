"""Integration test of the reliability suite: the kill_sink scenario end to end on the shared stack.

It starts the real services (sink, agents, notifier, scraper) against the running broker and
PostgreSQL, under a topic prefix and database of its own, kills the sink with SIGKILL and checks
the outcome. The scenarios that stop the broker or PostgreSQL run only in `farmstream reliability`,
which brings up a stack of its own for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from farmstream.config import StackSettings
from farmstream.reliability import SCENARIOS, StackAccess, run_scenario


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(720)
def test_kill_sink_loses_nothing(
    stack_settings: StackSettings, kafka_bootstrap: str, admin_database_url: str, tmp_path: Path
) -> None:
    stack = StackAccess(stack_settings, kafka_bootstrap, admin_database_url)

    # NOTE: one agents worker handles well under a thousand readings a second on a busy 2-core machine,
    # so the drain allows several minutes. The suite's own default is tighter.
    result = run_scenario(SCENARIOS["kill_sink"], stack, seconds=12.0, work_dir=tmp_path, drain_seconds=420.0)

    assert result.error is None, f"{result.error} (logs in {result.log_dir})"
    names = [check.name for check in result.figures.checks]
    assert names == [
        "pipeline recovered",
        "pipeline drained",
        "readings stored once",
        "no reading missing",
        "house-steps scraped",
        "alert transitions unique",
        "alerts stored once",
        "injected fault alerted",
        "no false device alert",
        "webhook delivered once",
    ]
    assert result.figures.readings_on_topic > 0
    assert result.figures.house_steps_served > 0
    for check in result.figures.checks:
        assert check.passed, f"{check.name}: {check.detail} (logs in {result.log_dir})"
