"""Tests of `farmstream parse` over every saved capture (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_rotemnet import CAPTURES as CAPTURES_FOLDER

from farmstream.cli import main
from schemas.events import DeadLetter, readings_topic_adapter

CAPTURES = sorted(CAPTURES_FOLDER.glob("*.json"))
WITH_EVENTS = {
    "GetSiteControllersInfo.json",
    "RNBL_GetCommandData_cmd0_main.json",
    "RNBL_GetCommandData_cmd35_temperature_history.json",
    "RNBL_GetCommandData_cmd40_water_history.json",
}


@pytest.mark.parametrize("path", CAPTURES, ids=[path.name for path in CAPTURES])
def test_parse_every_capture(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "parse",
            str(path),
            "--farm-id",
            "farm-a",
            "--timezone",
            "America/Chicago",
            "--fetched-at",
            "2026-04-24T17:25:00+00:00",
        ]
    )
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert bool(lines) == (path.name in WITH_EVENTS)
    for line in lines:
        document = json.loads(line)
        if document["kind"] == "dead_letter":
            DeadLetter.model_validate(document)
        else:
            readings_topic_adapter.validate_python(document)


def test_parse_units_from_js_globals(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "parse",
            str(CAPTURES[0].parent / "RNBL_GetCommandData_cmd0_main.json"),
            "--units-from",
            str(CAPTURES[0].parent / "JsGlobals_GetJsGlobals.json"),
        ]
    )
    assert status == 0
    assert '"parameter":"temperature.average"' in capsys.readouterr().out


def test_parse_missing_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(tmp_path / "none.json")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_parse_bad_timezone_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(CAPTURES[0]), "--timezone", "Mars/Olympus"]) == 1
    assert "unknown time zone" in capsys.readouterr().err
