"""The Markdown report of a reliability run: one table row per scenario, then every failed check."""

from __future__ import annotations

from datetime import UTC, datetime

from farmstream.reliability import ScenarioResult

HEADER = (
    "| scenario | fault | readings on topic | rows (distinct) | missing | house-steps served / scraped "
    "/ skipped | alert transitions / alerts / rows | webhook deliveries | recovery s: database / agents "
    "| load 1 min: start / end | result |"
)


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def _row(result: ScenarioResult) -> str:
    figures = result.figures
    recovery = f"{_seconds(figures.recovery_seconds)} / {_seconds(figures.agents_recovery_seconds)}"
    verdict = "pass" if result.passed else "**FAIL**"
    return (
        f"| {result.scenario.name} | {result.scenario.summary} | {figures.readings_on_topic:,} "
        f"| {figures.reading_rows:,} ({figures.distinct_row_ids:,}) | {figures.missing_rows:,} "
        f"| {figures.house_steps_served:,} / {figures.house_steps_scraped:,} "
        f"/ {figures.house_steps_skipped:,} "
        f"| {figures.alert_transitions} / {figures.alerts_opened} / {figures.alert_rows} "
        f"| {figures.webhook_deliveries} | {recovery} "
        f"| {result.load_averages[0]:.1f} / {result.load_averages[1]:.1f} | {verdict} |"
    )


def render_report(
    results: list[ScenarioResult],
    command: str,
    cores: int,
    seconds: float,
    load_averages: tuple[float, float],
) -> str:
    """Return the report as Markdown. ``load_averages`` are the 1-minute load at the run's start and end."""
    lines = [
        "# Reliability",
        "",
        "The reliability suite runs the whole pipeline (simulator, scraper, stream agents, sink, notifier",
        "with a local webhook receiver) on its own local stack, breaks one part per scenario, and checks",
        "what reached Kafka against what reached PostgreSQL and the webhook. Run all scenarios with:",
        "",
        "```sh",
        ".venv/bin/farmstream reliability",
        "```",
        "",
        "`tests/farmstream/test_reliability.py` runs the kill_sink scenario in the test command; the full",
        "suite is this separate command because it stops the broker and PostgreSQL of its own stack.",
        "",
        f"Last run: `{command}` on a {cores}-core machine, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{seconds / 60:.1f} minutes in all, 1-minute load average {load_averages[0]:.1f} at the start "
        f"and {load_averages[1]:.1f} at the end (other programs on the machine count too).",
        "",
        HEADER,
        "|---" * (HEADER.count("|") - 1) + "|",
    ]
    lines += [_row(result) for result in results]
    lines += [
        "",
        "How to read it:",
        "",
        "- readings on topic: distinct event ids of kind reading on the readings topic; rows: rows of the",
        "  readings table, with distinct event ids in brackets; missing: topic ids without a row.",
        "- house-steps: (farm, house, simulated instant) that the simulator served in a complete",
        "  GetSiteControllersInfo body, against those with a house status on the readings topic. A scraper",
        "  killed mid-cycle or a portal fault may lose a step, and a house whose command 0 failed",
        "  publishes no status. Such a step is counted as skipped, not hidden.",
        "- alerts: transitions on the alerts topic, distinct alerts opened, rows of the alerts table.",
        "  Identical redeliveries of one (alert_id, sequence) are allowed (at-least-once); two different",
        "  transitions with one (alert_id, sequence), two open transitions of one alert, or two episodes",
        "  of one subject open at once fail the scenario. Every scenario injects a controller outage on",
        "  farm-2 house 5 and expects a controller_offline alert open during it. The agents date a",
        "  disconnected house by its last fresh portal time plus its age in scrape intervals (0.5 s",
        "  here), and the simulated portal clock moves 5 minutes per cycle, so that alert is dated",
        "  under a second after the last fresh data, up to one step before the outage starts. A",
        "  controller_alarm, controller_offline, controller_stale or sensor_failed alert on any other",
        "  house fails the scenario, because the simulator injects no other device fault.",
        "- webhook deliveries: POSTs the local receiver got; the same alert event twice fails.",
        "- recovery: real seconds from the end of the fault (restart done, outage over, storm over) until",
        "  the sink's committed offsets reach the readings topic's end offsets as they were at that",
        "  moment and new readings arrived (database), and until the agents' committed offsets reach the",
        "  same offsets (agents). The sink commits an offset only after its transaction, so the rows are",
        "  in the table by then. A killed consumer's partitions move after the group session timeout",
        "  (45 s for the sink), and the sink retries a lost database after up to 30 s.",
        "- load 1 min: the machine's 1-minute load average when the scenario started and ended.",
        "",
        "## Checks",
        "",
    ]
    for result in results:
        lines.append(f"### {result.scenario.name}")
        lines.append("")
        for check in result.figures.checks:
            lines.append(f"- {'pass' if check.passed else '**FAIL**'} {check.name}: {check.detail}")
        if result.error:
            lines.append(f"- **FAIL** run: {result.error}")
        for note in result.notes:
            lines.append(f"- note: {note}")
        lines.append("")
    return "\n".join(lines)
