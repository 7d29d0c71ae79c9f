"""`farmstream evaluate`: score detection quality (NAB series, the tuning replay, the fault suite)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException

from farmstream import core_feed, evaluation_runs
from farmstream.cli import CommandError
from schemas.events import Alert, FailurePrediction
from schemas.topics import ALERTS, topic_name
from simulator.config import (
    DEFAULT_START,
    HOUSE_FAULT_KINDS,
    STEP,
    FarmConfig,
    ReplaySpec,
    SimulatorConfig,
)
from simulator.exceptions import ConfigError as SimulatorConfigError
from simulator.faults import make_fault_suite
from stream_processors import kafka_io
from stream_processors.config import AgentSettings
from stream_processors.evaluation import faults, nab, replay

NAB_FARM = "nab-replay"
SUITE_FARM = "suite-farm"


def _add_max_lag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-lag-steps",
        type=int,
        default=-1,
        help="Pause the scraper while the agents are more than N cycles behind (default -1: no limit). "
        "The alerts do not depend on the lag; a limit only bounds the backlog.",
    )


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand and its actions."""
    parser = subparsers.add_parser("evaluate", help="Measure detection quality (NAB score, fault suite).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    score = actions.add_parser("score", help="NAB standard score of a detector's published results file.")
    score.add_argument("data", type=Path, help="NAB data file (timestamp,value).")
    score.add_argument("labels", type=Path, help="NAB labels JSON with the windows of the data file.")
    score.add_argument("detections", type=Path, help="NAB results file (timestamp,value,anomaly_score,...).")
    score.add_argument(
        "--threshold", type=float, required=True, help="Anomaly score at or above which a row is a detection."
    )
    score.set_defaults(func=_score)

    core = actions.add_parser(
        "replay", help="NAB standard score of the processing core fed the series directly (no Kafka)."
    )
    core.add_argument("data", type=Path, help="NAB data file (timestamp,value).")
    core.add_argument("labels", type=Path, help="NAB labels JSON with the windows of the data file.")
    core.set_defaults(func=_replay)

    pipeline = actions.add_parser(
        "nab", help="NAB standard score of the alerts of the real pipeline replaying the series."
    )
    pipeline.add_argument("data", type=Path, help="NAB data file (timestamp,value).")
    pipeline.add_argument("labels", type=Path, help="NAB labels JSON with the windows of the data file.")
    pipeline.add_argument(
        "--prefix",
        help="Score the alerts already on <prefix>alerts from a pipeline run started by hand "
        "(simulator --replay, scrape, agents) instead of running one.",
    )
    pipeline.add_argument("--farm", help="Keep only alerts of this farm (the replayed house's farm).")
    pipeline.add_argument("--house", type=int, help="Keep only alerts of this house number.")
    pipeline.add_argument(
        "--step-seconds",
        type=float,
        default=0.0,
        help="Real seconds to wait between scrape cycles (default 0: as fast as the pipeline goes).",
    )
    pipeline.add_argument("--start-row", type=int, default=0, help="First row of the series to replay.")
    _add_max_lag(pipeline)
    pipeline.set_defaults(func=_nab)

    suite = actions.add_parser("faults", help="Recall, precision and time to detect over injected faults.")
    suite.add_argument("--seed", type=int, help="Seed of the simulator's fault suite.")
    suite.add_argument(
        "--days", type=float, default=7.0, help="Simulated days of the suite (default 7, 2,016 steps)."
    )
    suite.add_argument(
        "--houses", type=int, default=8, help="Houses of the one simulated farm, 2 to 8 (default 8)."
    )
    _add_max_lag(suite)
    suite.add_argument(
        "--core",
        action="store_true",
        help="Feed the simulator through the producers' parser into the processing core in this process "
        "(no HTTP, no Kafka, no agents worker) and score it the same way.",
    )
    suite.add_argument(
        "--kinds",
        help="Comma-separated house fault kinds to inject (default: every kind in the simulator).",
    )
    suite.add_argument("--ground-truth", type=Path, help="Score a finished run: ground-truth JSON.")
    suite.add_argument(
        "--alerts", type=Path, help="Score a finished run: JSON lines of alerts and failure predictions."
    )
    suite.set_defaults(func=_faults)


def _load_series(data: Path, labels: Path) -> tuple[list[Any], list[float], list[nab.Window]]:
    try:
        timestamps, values = nab.read_series(data)
        windows = nab.read_windows(labels, data.name, timestamps)
    except (OSError, nab.NabInputError) as error:
        raise CommandError(f"cannot read the NAB series: {error}") from None
    return timestamps, values, windows


def _print_score(result: nab.NabScore) -> None:
    print(
        f"windows_detected={result.true_positives} windows_missed={result.false_negatives} "
        f"false_positives={result.false_positives} "
        f"window_rewards={','.join(f'{reward:.4f}' for reward in result.window_rewards)}"
    )
    print(f"nab_standard_score={result.score:.4f}")


def _score(arguments: argparse.Namespace) -> int:
    timestamps, _, windows = _load_series(arguments.data, arguments.labels)
    try:
        rows = nab.read_detections(arguments.detections, timestamps, arguments.threshold)
    except (OSError, nab.NabInputError) as error:
        raise CommandError(f"cannot read the detections: {error}") from None
    _print_score(nab.score_detections(len(timestamps), windows, rows))
    return 0


def _replay(arguments: argparse.Namespace) -> int:
    timestamps, values, windows = _load_series(arguments.data, arguments.labels)
    alerts = replay.replay_series(timestamps, values)
    rows = nab.rows_for_times(replay.opening_times(alerts), timestamps)
    _print_score(nab.score_detections(len(timestamps), windows, rows))
    return 0


def _nab(arguments: argparse.Namespace) -> int:
    timestamps, _, windows = _load_series(arguments.data, arguments.labels)
    if arguments.prefix is None:
        rows = _run_nab_pipeline(arguments, len(timestamps))
    else:
        alerts = [
            alert
            for alert in _collect_alerts(AgentSettings().kafka_bootstrap, arguments.prefix)
            if (arguments.farm is None or alert.farm_id == arguments.farm)
            and (arguments.house is None or alert.house_number == arguments.house)
        ]
        rows = nab.rows_for_times(replay.opening_times(alerts), timestamps)
    _print_score(nab.score_detections(len(timestamps), windows, rows))
    return 0


def _run_nab_pipeline(arguments: argparse.Namespace, row_count: int) -> list[int]:
    """Replay the series as one probe of a one-house farm through the pipeline and return the alert rows."""
    if not 0 <= arguments.start_row < row_count:
        raise CommandError(f"--start-row {arguments.start_row} is outside the series' 0..{row_count - 1}")
    config = SimulatorConfig(
        farms=(FarmConfig(NAB_FARM, "nab-replay@example.com", "replay", houses=1),),
        replay=ReplaySpec(arguments.data.resolve(), NAB_FARM, house=1, start_row=arguments.start_row),
    )
    steps = row_count - arguments.start_row
    output = _run(config, steps, arguments.step_seconds, arguments.max_lag_steps)
    replay_map = output.ground_truth.get("replay")
    if not replay_map or int(replay_map["rows"]) != row_count:
        raise CommandError("the simulator's replay mapping does not match the series: rows differ")
    rows = evaluation_runs.replay_rows(output.alerts, replay_map)
    print(
        f"pipeline steps={output.steps} input_messages={output.input_messages} alerts={len(output.alerts)} "
        f"probe_alert_openings={len(rows)} scrape_seconds={output.scrape_seconds:.0f} "
        f"total_seconds={output.total_seconds:.0f} {evaluation_runs.environment_summary()} "
        f"prefix={output.prefix} files={output.work_dir}"
    )
    return rows


def _run(
    config: SimulatorConfig, steps: int, step_seconds: float, max_lag_steps: int | None
) -> evaluation_runs.RunOutput:
    if max_lag_steps is not None and max_lag_steps < 0:
        max_lag_steps = None
    bootstrap = AgentSettings().kafka_bootstrap
    try:
        return evaluation_runs.run_pipeline(
            config, steps, bootstrap, step_seconds=step_seconds, max_lag_steps=max_lag_steps
        )
    except evaluation_runs.EvaluationRunError as error:
        raise CommandError(str(error)) from None
    except SimulatorConfigError as error:
        raise CommandError(f"invalid simulator configuration: {error}") from None


def _collect_alerts(bootstrap: str, prefix: str) -> list[Alert]:
    """Read every alert on a prefix's alerts topic, in no particular order across partitions."""
    topic = topic_name(ALERTS, prefix)
    try:
        ends = kafka_io.end_offsets(bootstrap, [topic])
        if topic not in ends:
            raise CommandError(f"topic {topic} does not exist on {bootstrap}: check --prefix")
        records = kafka_io.read_range(bootstrap, {(topic, partition): 0 for partition in ends[topic]})
    except KafkaException as error:
        raise CommandError(f"cannot read {topic} from {bootstrap}: {error}") from None
    alerts = []
    for _, value in records:
        try:
            alerts.append(Alert.model_validate_json(value))
        except ValueError:
            continue
    return alerts


def _read_events(path: Path) -> list[Alert | FailurePrediction]:
    events: list[Alert | FailurePrediction] = []
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise CommandError(f"cannot read alerts file {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            kind = document.get("kind")
            if kind == "alert":
                events.append(Alert.model_validate(document))
            elif kind == "failure_prediction":
                events.append(FailurePrediction.model_validate(document))
        except ValueError as error:
            raise CommandError(f"{path}:{number}: invalid event: {error}") from None
    return events


def _faults(arguments: argparse.Namespace) -> int:
    if arguments.ground_truth is not None or arguments.alerts is not None:
        if arguments.ground_truth is None or arguments.alerts is None:
            raise CommandError("score a finished run with both --ground-truth FILE and --alerts FILE")
        try:
            truth = faults.read_ground_truth(arguments.ground_truth)
        except faults.GroundTruthError as error:
            raise CommandError(str(error)) from None
        report = faults.score_faults(truth, faults.detections_from(_read_events(arguments.alerts)))
    else:
        if arguments.seed is None:
            raise CommandError("pass --seed N to run the fault suite, or --ground-truth and --alerts")
        report = _run_fault_suite(arguments)
    for line in _fault_table(report):
        print(line)
    for line in faults.format_report(report):
        print(line)
    return 0


def _run_fault_suite(arguments: argparse.Namespace) -> faults.FaultReport:
    if not 2 <= arguments.houses <= 8:
        raise CommandError(
            f"--houses {arguments.houses} must be 2..8: one farm, with fault-free control houses"
        )
    if arguments.days <= 0:
        raise CommandError(f"--days {arguments.days} must be positive")
    kinds = HOUSE_FAULT_KINDS
    if arguments.kinds:
        kinds = tuple(kind.strip() for kind in arguments.kinds.split(",") if kind.strip())
        unknown = sorted(set(kinds) - set(HOUSE_FAULT_KINDS))
        if unknown:
            raise CommandError(f"unknown fault kinds {unknown}: use {', '.join(HOUSE_FAULT_KINDS)}")

    farms = (FarmConfig(SUITE_FARM, "suite@example.com", "suite", houses=arguments.houses),)
    duration = timedelta(days=arguments.days)
    try:
        suite, _controls = make_fault_suite(
            arguments.seed, farms, DEFAULT_START, duration=duration, kinds=kinds, portal_faults=False
        )
    except ValueError as error:
        raise CommandError(f"cannot place the fault suite: {error}; use more --houses or --days") from None

    steps = int(duration / STEP)
    if arguments.core:
        try:
            config = SimulatorConfig(farms=farms, seed=arguments.seed, faults=suite, advance_on_scrape=False)
            core = core_feed.run_core(config, steps)
        except SimulatorConfigError as error:
            raise CommandError(f"invalid simulator configuration: {error}") from None
        except core_feed.CoreFeedError as error:
            raise CommandError(str(error)) from None
        truth = _ground_truth(core.ground_truth, config, steps)
        print(
            f"core seed={arguments.seed} steps={steps} houses={arguments.houses} faults={len(truth.faults)} "
            f"input_messages={core.input_messages} alerts={len(core.alerts)} "
            f"predictions={len(core.predictions)} total_seconds={core.total_seconds:.0f} "
            f"{evaluation_runs.environment_summary()}"
        )
        return faults.score_faults(truth, faults.detections_from([*core.alerts, *core.predictions]))
    config = SimulatorConfig(farms=farms, seed=arguments.seed, faults=suite)
    output = _run(config, steps, 0.0, arguments.max_lag_steps)
    truth = _ground_truth(output.ground_truth, config, steps)
    events: list[Alert | FailurePrediction] = [*output.alerts, *output.predictions]
    print(
        f"pipeline seed={arguments.seed} steps={steps} houses={arguments.houses} faults={len(truth.faults)} "
        f"input_messages={output.input_messages} alerts={len(output.alerts)} "
        f"predictions={len(output.predictions)} scrape_seconds={output.scrape_seconds:.0f} "
        f"total_seconds={output.total_seconds:.0f} {evaluation_runs.environment_summary()} "
        f"prefix={output.prefix} files={output.work_dir}"
    )
    return faults.score_faults(truth, faults.detections_from(events))


def _ground_truth(document: dict[str, Any], config: SimulatorConfig, steps: int) -> faults.GroundTruth:
    """Turn the simulator's ground truth into the scorer's, keeping the house faults."""
    start = datetime.fromisoformat(str(document["start"]))
    end = start + steps * STEP
    entries = [entry for entry in document["faults"] if entry.get("category") == "house"]
    return faults.GroundTruth(
        faults=[
            faults.Fault(
                fault_id=str(entry["fault_id"]),
                kind=str(entry["kind"]),
                farm_id=str(entry["farm_id"]),
                house_number=int(entry["house"]),
                start=datetime.fromisoformat(entry["start"]),
                end=min(datetime.fromisoformat(entry["end"]), end) if entry.get("end") else end,
            )
            for entry in entries
        ],
        houses=[(farm.farm_id, number) for farm in config.farms for number in range(1, farm.houses + 1)],
        start=start,
        end=end,
    )


def _fault_table(report: faults.FaultReport) -> list[str]:
    def minutes(seconds: float | None) -> str:
        return "n/a" if seconds is None else f"{seconds / 60:.1f}"

    lines = [f"{'kind':<20} {'faults':>6} {'detected':>8} {'recall':>6} {'matched':>7} {'median_min':>10}"]
    for kind in report.kinds:
        lines.append(
            f"{kind.kind:<20} {kind.faults:>6} {kind.detected:>8} {kind.recall:>6.3f} "
            f"{kind.matched_detections:>7} {minutes(kind.median_seconds_to_detect):>10}"
        )
    rate = report.false_alarms_per_house_week
    lines.append(
        f"{'overall':<20} {sum(k.faults for k in report.kinds):>6} "
        f"{sum(k.detected for k in report.kinds):>8} {report.recall:>6.3f} "
        f"{report.detections:>7} {minutes(report.median_seconds_to_detect):>10}"
    )
    lines.append(
        f"precision={report.precision:.3f} detections={report.detections} "
        f"false_alarms_per_house_week={'n/a' if rate is None else f'{rate:.3f}'}"
    )
    return lines
