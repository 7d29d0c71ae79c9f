"""Unit tests of the evaluation commands and the fault-suite scorer (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from farmstream.cli import main
from stream_processors.evaluation import faults

NAB_DIR = Path("/work/shared/data/nab")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_score_command_prints_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "evaluate",
            "score",
            str(NAB_DIR / "machine_temperature_system_failure.csv"),
            str(NAB_DIR / "labels.json"),
            str(NAB_DIR / "published_detections" / "numenta_machine_temperature_system_failure.csv"),
            "--threshold",
            "0.542187690735",
        ]
    )
    assert status == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "nab_standard_score=1.3601"


def test_score_command_rejects_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = main(
        [
            "evaluate",
            "score",
            str(tmp_path / "none.csv"),
            str(NAB_DIR / "labels.json"),
            "x",
            "--threshold",
            "1",
        ]
    )
    assert status == 1
    assert "cannot read the NAB series" in capsys.readouterr().err


def _truth(tmp_path: Path) -> Path:
    document = {
        "faults": [
            {
                "fault_id": "f1",
                "kind": "heater_failure",
                "farm_id": "farm-1",
                "house_number": 1,
                "start": T0.isoformat(),
                "end": (T0 + timedelta(hours=2)).isoformat(),
            },
            {
                "fault_id": "f2",
                "kind": "heater_failure",
                "farm_id": "farm-1",
                "house_number": 2,
                "start": T0.isoformat(),
                "end": (T0 + timedelta(hours=2)).isoformat(),
            },
        ],
        "houses": [["farm-1", 1], ["farm-1", 2], ["farm-1", 3]],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(days=7)).isoformat(),
    }
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(document))
    return path


def test_fault_scores_from_detections(tmp_path: Path) -> None:
    truth = faults.read_ground_truth(_truth(tmp_path))
    detections = [
        faults.Detection("farm-1", 1, T0 + timedelta(minutes=10), "anomaly"),
        faults.Detection("farm-1", 3, T0 + timedelta(days=1), "anomaly"),
    ]
    report = faults.score_faults(truth, detections)
    assert report.recall == 0.5
    assert report.precision == 0.5
    assert report.median_seconds_to_detect == 600.0
    assert report.false_alarms_per_house_week == pytest.approx(1.0)
    assert report.kinds[0].kind == "heater_failure"


def test_ground_truth_needs_offsets(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    path.write_text(
        json.dumps(
            [
                {
                    "fault_id": "f",
                    "kind": "k",
                    "farm_id": "a",
                    "start": "2026-03-01T00:00:00",
                    "end": "2026-03-01T01:00:00",
                }
            ]
        )
    )
    with pytest.raises(faults.GroundTruthError, match="no UTC offset"):
        faults.read_ground_truth(path)
