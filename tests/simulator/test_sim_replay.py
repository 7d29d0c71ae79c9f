"""Replay mode: one probe follows a recorded CSV, one row per step, with an exportable mapping.

Unit tests over the in-process Portal; the series is the NAB machine-temperature file and small files
written to a temporary folder.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from sim_helpers import NAB_CSV, Stepper, general, one_farm

from simulator.config import STEP, ReplaySpec
from simulator.exceptions import ConfigError
from simulator.replay import ReplaySeries


def _nab_rows() -> list[float]:
    with NAB_CSV.open(newline="") as handle:
        return [float(row["value"]) for row in csv.DictReader(handle)]


def test_probe_follows_csv_rows() -> None:
    rows = _nab_rows()
    config = replace(one_farm(), replay=ReplaySpec(NAB_CSV, "farm-t", house=2, start_row=100))
    stepper = Stepper(config)
    low, high = min(rows), max(rows)
    for offset in range(12):
        expected = 15.0 + (rows[100 + offset] - low) / (high - low) * 30.0
        served = float(general(stepper.command(2), "Temperature_Sensor_1", "TempSensor"))
        assert served == pytest.approx(expected, abs=0.006)
        stepper.advance()


def test_replayed_probe_left_out_of_average() -> None:
    config = replace(one_farm(), replay=ReplaySpec(NAB_CSV, "farm-t", house=1, low_c=60.0, high_c=90.0))
    twin = Stepper(one_farm())
    replayed = Stepper(config)
    for _ in range(6):
        replayed.advance()
        twin.advance()
    assert replayed.reading(1).probe_in_average[0] is False
    assert replayed.reading(1).average_c == pytest.approx(twin.reading(1).average_c, abs=0.5)
    assert float(general(replayed.command(1), "Temperature_Sensor_1", "TempSensor")) >= 59.99


def test_mapping_exported_in_ground_truth() -> None:
    config = replace(one_farm(), replay=ReplaySpec(NAB_CSV, "farm-t", house=2, start_row=10))
    truth = Stepper(config).portal.ground_truth()["replay"]
    rows = _nab_rows()
    assert truth["rows"] == len(rows)
    assert truth["value_mapping"]["source_min"] == min(rows)
    assert truth["value_mapping"]["source_max"] == max(rows)
    assert truth["time_mapping"]["start_row"] == 10
    assert truth["time_mapping"]["start"] == config.start.isoformat()
    assert truth["in_controller_average"] is False


def test_series_row_and_instant_inverse(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,3\n2024-01-01 00:10:00,2\n")
    config = one_farm()
    series = ReplaySeries.load(ReplaySpec(path, "farm-t", low_c=10.0, high_c=20.0), config.start)
    assert series.row_at(config.start + STEP) == 1
    assert series.instant_of_row(2) == config.start + 2 * STEP
    assert series.value_at(config.start + STEP) == 20.0
    assert series.value_at(config.start + 40 * STEP) == 15.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,value\n1,2\n", "header"),
        ("timestamp,value\nx,abc\n", "line 2"),
        ("timestamp,value\n", "no rows"),
    ],
)
def test_bad_replay_file_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        ReplaySeries.load(ReplaySpec(path, "farm-t"), one_farm().start)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"house": 9}, "no house 9"),
        ({"sensor": "Temperature_Sensor_9"}, "Temperature_Sensor_1..8"),
        ({"low_c": 40.0, "high_c": 20.0}, "is empty"),
    ],
)
def test_bad_replay_spec_rejected(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        replace(one_farm(), replay=ReplaySpec(NAB_CSV, "farm-t", **fields))  # type: ignore[arg-type]
