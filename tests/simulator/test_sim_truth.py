"""Determinism for a seed, ground-truth export, the fault-suite generator and the configuration file.

Unit tests over the in-process Portal and the configuration loaders (no HTTP).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sim_helpers import Stepper, capture_like, fault, one_farm

from farmstream.commands.simulator import build_config, register
from simulator.config import HOUSE_FAULT_KINDS, PORTAL_FAULT_KINDS, default_farms, fault_to_dict, load_config
from simulator.exceptions import ConfigError
from simulator.faults import make_fault_suite


def _payloads(seed: int) -> list[str]:
    stepper = Stepper(replace(capture_like(), seed=seed))
    texts = []
    for _ in range(4):
        texts.append(stepper.portal.site_controllers_info_json("farm-2"))
        texts.append(stepper.portal.command_json("farm-2", 3, 0) or "")
        stepper.advance()
    texts.append(stepper.portal.command_json("farm-2", 3, 40) or "")
    return texts


def test_same_seed_same_payloads() -> None:
    assert _payloads(11) == _payloads(11)


def test_other_seed_other_payloads() -> None:
    assert _payloads(11) != _payloads(12)


def test_ground_truth_lists_faults() -> None:
    config = one_farm(houses=3)
    spec = fault(
        "sensor_drift",
        config.start + timedelta(hours=2),
        5.0,
        house=2,
        target="Temperature_Sensor_3",
        params={"rate_c_per_hour": 0.1},
    )
    truth = Stepper(replace(config, faults=(spec,))).portal.ground_truth()
    entry = truth["faults"][0]
    assert entry["fault_id"] == "sensor_drift-t"
    assert (entry["kind"], entry["category"], entry["farm_id"], entry["house"]) == (
        "sensor_drift",
        "house",
        "farm-t",
        2,
    )
    assert entry["target"] == "Temperature_Sensor_3"
    assert (entry["start_step"], entry["end_step"]) == (24, 84)
    assert entry["start"] == spec.start.isoformat()
    assert "Temperature_Sensor_N" in entry["affected_parameters"]
    assert entry["expected_signature"]
    assert truth["fault_free_houses"] == [
        {"farm_id": "farm-t", "house": 1},
        {"farm_id": "farm-t", "house": 3},
    ]
    json.dumps(truth)


def test_fault_suite_covers_every_kind() -> None:
    farms = default_farms()
    faults, controls = make_fault_suite(3, farms, capture_like().start)
    kinds = {spec.kind for spec in faults}
    assert kinds == set(HOUSE_FAULT_KINDS) | set(PORTAL_FAULT_KINDS)
    faulty = {(spec.farm_id, spec.house) for spec in faults if spec.house is not None}
    assert controls
    assert not faulty & set(controls)
    by_house: dict[tuple[str, int | None], list[tuple[object, object]]] = {}
    for spec in faults:
        if spec.house is None:
            continue
        assert spec.end is not None and spec.end > spec.start
        for other_start, other_end in by_house.get((spec.farm_id, spec.house), []):
            assert spec.end <= other_start or other_end <= spec.start  # type: ignore[operator]
        by_house.setdefault((spec.farm_id, spec.house), []).append((spec.start, spec.end))
    replace(capture_like(), faults=faults)


def test_fault_suite_is_deterministic() -> None:
    start = capture_like().start
    assert make_fault_suite(9, default_farms(), start) == make_fault_suite(9, default_farms(), start)
    assert make_fault_suite(9, default_farms(), start) != make_fault_suite(10, default_farms(), start)


def test_config_file_round_trip(tmp_path: Path) -> None:
    config = capture_like()
    faults, _controls = make_fault_suite(4, config.farms, config.start, faults_per_kind=1)
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"seed": 4, "faults": [fault_to_dict(spec) for spec in faults]}))
    loaded = load_config(path)
    assert loaded.seed == 4
    assert loaded.faults == faults
    assert loaded.farms == config.farms


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"sede": 1}', "unknown keys"),
        (
            '{"faults": [{"fault_id": "x", "kind": "meteor", "farm_id": "farm-1",'
            ' "start": "2026-04-24T00:00:00+00:00"}]}',
            "unknown kind",
        ),
        (
            '{"faults": [{"fault_id": "x", "kind": "power_failure", "farm_id": "farm-1",'
            ' "start": "2026-04-24"}]}',
            "UTC offset",
        ),
        (
            '{"faults": [{"fault_id": "x", "kind": "power_failure", "farm_id": "farm-1", "house": 9,'
            ' "start": "2026-04-24T00:00:00+00:00"}]}',
            "no house 9",
        ),
        ("[1]", "JSON object"),
    ],
)
def test_invalid_config_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_cli_builds_config(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    arguments = parser.parse_args(
        [
            "simulator",
            "--seed",
            "8",
            "--step-seconds",
            "0.5",
            "--replay",
            "/work/shared/data/nab/machine_temperature_system_failure.csv",
            "--replay-house",
            "2",
            "--replay-range",
            "10",
            "40",
        ]
    )
    config = build_config(arguments)
    assert config.seed == 8
    assert config.step_seconds == 0.5
    assert config.replay is not None
    assert (config.replay.farm_id, config.replay.house, config.replay.low_c, config.replay.high_c) == (
        "farm-1",
        2,
        10.0,
        40.0,
    )


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [("sensor_open", "Humidity_1", "not a simulated probe"), ("heater_failure", "Fan_2", "Heater_1..16")],
)
def test_fault_target_validated(kind: str, target: str, message: str) -> None:
    start = capture_like().start
    with pytest.raises(ConfigError, match=message):
        fault(kind, start, 1.0, target=target)


def test_cli_adds_fault_suite() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    config = build_config(parser.parse_args(["simulator", "--fault-suite", "5", "--suite-days", "3"]))
    kinds = {spec.kind for spec in config.faults}
    assert kinds == set(HOUSE_FAULT_KINDS) | set(PORTAL_FAULT_KINDS)
    assert max(spec.end for spec in config.faults if spec.end) <= config.start + timedelta(days=3)
