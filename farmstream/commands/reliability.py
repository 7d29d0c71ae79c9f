"""`farmstream reliability`: break the pipeline on purpose and check that nothing was lost or doubled.

Runs each scenario on the suite's own local stack (Kafka on 127.0.0.1:29092, PostgreSQL on
127.0.0.1:25432, files in .stack/reliability), because scenarios stop the broker and PostgreSQL.
Prints one line per check, writes a Markdown report and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from farmstream.cli import CommandError
from farmstream.config import REPOSITORY_ROOT


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "reliability",
        help="Run the fault scenarios against the whole pipeline and report what survived.",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        action="append",
        help="Scenario to run: kafka_restart, postgres_outage, kill_agents, kill_scraper, kill_sink or "
        "portal_storm; repeat for several (default: all of them).",
    )
    parser.add_argument(
        "--seconds-per-scenario",
        type=float,
        default=60.0,
        help="Real seconds the pipeline runs around each fault: half before it, half after (default 60).",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=REPOSITORY_ROOT / "RELIABILITY.md",
        help="Markdown file the results are written to (default RELIABILITY.md in the repository).",
    )
    parser.add_argument(
        "--keep-stack",
        action="store_true",
        help="Leave the suite's broker and PostgreSQL running afterwards (default: stop what it started).",
    )
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    from farmstream.reliability import (
        SCENARIOS,
        reliability_stack_settings,
        run_scenario,
        start_stack,
        stop_stack,
    )
    from farmstream.reliability_report import render_report

    if arguments.seconds_per_scenario < 10:
        raise CommandError(
            f"invalid --seconds-per-scenario {arguments.seconds_per_scenario}: use 10 or more seconds"
        )
    names = arguments.scenario or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise CommandError(f"unknown --scenario {unknown[0]!r}: use one of {', '.join(SCENARIOS)}")
    settings = reliability_stack_settings()
    from farmstream.stack import kafka, postgres

    already_running = kafka.status(settings).running and postgres.status(settings).running
    started = time.monotonic()
    load_at_start = os.getloadavg()[0]
    stack = start_stack(settings)
    work_dir = settings.stack_dir / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results = []
    try:
        for name in names:
            print(f"scenario {name}: {SCENARIOS[name].summary} ...", flush=True)
            result = run_scenario(SCENARIOS[name], stack, arguments.seconds_per_scenario, work_dir)
            results.append(result)
            for check in result.figures.checks:
                print(f"  {'PASS' if check.passed else 'FAIL'} {check.name}: {check.detail}", flush=True)
            if result.error:
                print(f"  FAIL run: {result.error} (logs in {result.log_dir})", flush=True)
            for note in result.notes:
                print(f"  note: {note}", flush=True)
    finally:
        if not already_running and not arguments.keep_stack:
            stop_stack(settings)
    command = "farmstream " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "farmstream reliability"
    report = render_report(
        results,
        command,
        os.cpu_count() or 0,
        time.monotonic() - started,
        (load_at_start, os.getloadavg()[0]),
    )
    arguments.report.write_text(report)
    failed = [result.scenario.name for result in results if not result.passed]
    print(f"report written to {arguments.report}; logs in {work_dir}", flush=True)
    if failed:
        print(f"failed scenarios: {', '.join(failed)}", flush=True)
        return 1
    return 0
