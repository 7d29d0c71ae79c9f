"""`farmstream evaluate faults --core`: the fault suite through the parser and the core, in one process.

The first test needs no broker. The second runs the same one-day suite through the real pipeline
(the stack's broker and an agents worker) and checks that both paths give the same figures.
"""

from __future__ import annotations

import pytest

from tests.farmstream.cli_runs import run_farmstream

SUITE = ("evaluate", "faults", "--seed", "7", "--days", "1", "--houses", "3")
KINDS = ("--kinds", "sensor_short,controller_offline")


def _fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def _figures(output: str) -> list[str]:
    """Return the per-kind table and the figure lines, everything after the run's own line."""
    lines = output.strip().splitlines()
    return lines[1:]


@pytest.mark.slow
def test_core_suite_prints_table() -> None:
    result = run_farmstream(*SUITE, *KINDS, "--core")
    assert result.returncode == 0, result.stderr[-3000:]
    first = result.stdout.splitlines()[0]
    assert first.startswith("core "), result.stdout
    run = _fields(first)
    assert run["faults"] == "2"
    assert run["steps"] == "288"
    assert int(run["input_messages"]) > 288 * 3
    table = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.split()}
    assert table["controller_offline"][1:3] == ["1", "1"]
    assert table["sensor_short"][1:3] == ["1", "1"]
    totals = _fields(result.stdout.strip().splitlines()[-1])
    assert totals["recall"] == "1.000"


def test_core_option_rejects_bad_houses() -> None:
    result = run_farmstream("evaluate", "faults", "--seed", "7", "--houses", "1", "--core")
    assert result.returncode != 0
    assert "--houses 1 must be 2..8" in result.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_core_figures_equal_pipeline(kafka_bootstrap: str) -> None:
    core = run_farmstream(*SUITE, *KINDS, "--core")
    pipeline = run_farmstream(*SUITE, *KINDS, bootstrap=kafka_bootstrap)
    assert core.returncode == 0, core.stderr[-3000:]
    assert pipeline.returncode == 0, pipeline.stderr[-3000:]
    assert pipeline.stdout.startswith("pipeline ")
    assert _figures(core.stdout) == _figures(pipeline.stdout)
    core_run = _fields(core.stdout.splitlines()[0])
    pipeline_run = _fields(pipeline.stdout.splitlines()[0])
    for name in ("faults", "alerts", "predictions"):
        assert core_run[name] == pipeline_run[name]
