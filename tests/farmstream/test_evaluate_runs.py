"""End-to-end runs of `farmstream evaluate nab` and `farmstream evaluate faults` on the real broker.

Each run starts the simulator and the scraper in the command's process and an agents worker as a
subprocess, under a fresh topic prefix. The tests use short runs: a 600-row slice of the NAB series
with one window placed inside it, and a one-day fault suite with two faults on three houses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from farmstream.evaluation_runs import replay_rows
from farmstream.stack.topics import list_topics
from schemas.events import Alert
from stream_processors.evaluation import nab
from tests.farmstream.cli_runs import run_farmstream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NAB_SERIES = ROOT.parent / "shared" / "data" / "nab" / "machine_temperature_system_failure.csv"
SLICE_ROWS = 600


def _fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def _pipeline_line(output: str) -> dict[str, str]:
    lines = [line for line in output.splitlines() if line.startswith("pipeline ")]
    assert len(lines) == 1, output
    return _fields(lines[0])


@pytest.fixture
def nab_slice(tmp_path: Path) -> tuple[Path, Path]:
    """Write the series' first 600 rows and labels with one window from row 400 to row 450."""
    lines = NAB_SERIES.read_text().splitlines()
    data = tmp_path / "machine_slice.csv"
    data.write_text("\n".join(lines[: SLICE_ROWS + 1]) + "\n")
    stamps = [line.split(",", 1)[0] for line in lines[1 : SLICE_ROWS + 1]]
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({data.name: {"windows": [[stamps[400], stamps[450]]]}}))
    return data, labels


def test_nab_slice_prints_pipeline_score(kafka_bootstrap: str, nab_slice: tuple[Path, Path]) -> None:
    data, labels = nab_slice
    result = run_farmstream("evaluate", "nab", str(data), str(labels), bootstrap=kafka_bootstrap)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("nab_standard_score=")
    run = _pipeline_line(result.stdout)
    assert run["steps"] == str(SLICE_ROWS)
    assert int(run["alerts"]) > 0, "the agents published no alert at all"
    assert "rows 600/600" in result.stderr

    # The printed score is the scorer's verdict on the alerts the run collected from the topic.
    files = Path(run["files"])
    truth = json.loads((files / "ground-truth.json").read_text())
    alerts = [
        Alert.model_validate_json(line)
        for line in (files / "events.jsonl").read_text().splitlines()
        if '"kind":"alert"' in line
    ]
    assert len(alerts) == int(run["alerts"])
    rows = replay_rows(alerts, truth["replay"])
    assert len(rows) == int(run["probe_alert_openings"])
    timestamps, _ = nab.read_series(data)
    windows = nab.read_windows(labels, data.name, timestamps)
    expected = nab.score_detections(len(timestamps), windows, rows)
    assert last == f"nab_standard_score={expected.score:.4f}"
    assert list_topics(kafka_bootstrap, run["prefix"]) == {}


def test_replay_rows_follow_time_mapping() -> None:
    start = datetime(2026, 4, 24, 17, 15, tzinfo=UTC)
    replay = {
        "farm_id": "nab-replay",
        "house": 1,
        "sensor": "Temperature_Sensor_1",
        "rows": 100,
        "time_mapping": {"start_row": 10, "start": start.isoformat(), "step_seconds": 300.0},
    }

    def alert(steps: int, subject: str = "temperature.sensor_1", state: str = "open") -> Alert:
        moment = start + timedelta(minutes=5 * steps)
        alert_id = Alert.make_alert_id("nab-replay", 1, subject, "anomaly", moment)
        return Alert(
            event_id=Alert.make_event_id(alert_id, 0),
            alert_id=alert_id,
            sequence=0,
            state=state,  # type: ignore[arg-type]
            severity="warning",
            rule="anomaly",
            farm_id="nab-replay",
            house_number=1,
            subject=subject,
            title="t",
            message="m",
            opened_at=moment,
            event_time=moment,
        )

    alerts = [
        alert(3),
        alert(0),
        alert(5, subject="temperature.sensor_2"),
        alert(7, state="resolved"),
        alert(95),
    ]
    assert replay_rows(alerts, replay) == [10, 13]


def test_fault_suite_prints_table(kafka_bootstrap: str) -> None:
    result = run_farmstream(
        "evaluate",
        "faults",
        "--seed",
        "7",
        "--days",
        "1",
        "--houses",
        "3",
        "--kinds",
        "sensor_short,controller_offline",
        bootstrap=kafka_bootstrap,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = _pipeline_line(result.stdout)
    assert run["faults"] == "2"
    assert run["steps"] == "288"
    truth = json.loads((Path(run["files"]) / "ground-truth.json").read_text())
    assert sorted(fault["kind"] for fault in truth["faults"]) == ["controller_offline", "sensor_short"]
    table = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.split()}
    assert table["controller_offline"][1] == "1"
    assert table["sensor_short"][1] == "1"
    totals = _fields(result.stdout.strip().splitlines()[-1])
    assert set(totals) == {"recall", "precision", "median_minutes_to_detect", "false_alarms_per_house_week"}
    events = (Path(run["files"]) / "events.jsonl").read_text().splitlines()
    assert len(events) == int(run["alerts"]) + int(run["predictions"])
    assert list_topics(kafka_bootstrap, run["prefix"]) == {}


def test_interrupt_stops_worker_and_topics(kafka_bootstrap: str, nab_slice: tuple[Path, Path]) -> None:
    data, labels = nab_slice
    environment = {**os.environ, "FARMSTREAM_KAFKA_BOOTSTRAP": kafka_bootstrap}
    process = subprocess.Popen(
        [sys.executable, "-m", "farmstream.cli", "evaluate", "nab", str(data), str(labels)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None

    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("rows "):
            break
    fields = {}
    for line in seen:
        fields.update(_fields(line))
    assert "pid" in fields, "".join(seen)
    assert "topic" in fields, "".join(seen)

    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130, rest[-3000:]
    with pytest.raises(ProcessLookupError):
        os.kill(int(fields["pid"]), 0)
    prefix = fields["topic"].rsplit(".", 1)[0] + "."
    assert list_topics(kafka_bootstrap, prefix) == {}
