"""Unit tests of the operator-facing errors of the ``farmstream`` command (no broker, no database)."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from farmstream.cli import build_parser, main

FARMSTREAM = Path(sys.executable).with_name("farmstream")


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Put back the root logger's handlers that main() replaces, so no handler outlives capsys."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize(
    ("variable", "value", "arguments"),
    [
        ("FARMSTREAM_KAFKA_PORT", "abc", ["stack", "status"]),
        ("FARMSTREAM_POSTGRES_PORT", "80", ["stack", "status"]),
        ("FARMSTREAM_TOPIC_PREFIX", "bad prefix!", ["topics", "list"]),
    ],
)
def test_invalid_setting_prints_one_line(variable: str, value: str, arguments: list[str]) -> None:
    result = subprocess.run(
        [str(FARMSTREAM), *arguments],
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert repr(value) in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_setting_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FARMSTREAM_KAFKA_HEAP_MB", "lots")

    status = main(["stack", "status"])

    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("farmstream: invalid configuration: FARMSTREAM_KAFKA_HEAP_MB")
    assert error.count("\n") == 1


def test_unreachable_broker_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 9 on loopback has no listener, so the metadata request fails fast.
    monkeypatch.setenv("FARMSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")

    status = main(["topics", "list"])

    assert status == 1
    error = capsys.readouterr().err
    assert "no Kafka broker accepts connections on 127.0.0.1:9" in error
    assert "FARMSTREAM_KAFKA_BOOTSTRAP" in error


@pytest.mark.parametrize("arguments", [["migrate"], ["apikey", "list"]])
def test_malformed_database_url_is_one_line(
    arguments: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FARMSTREAM_DATABASE_URL", "garbage")

    status = main(arguments)

    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("farmstream: invalid FARMSTREAM_DATABASE_URL:")
    assert error.count("\n") == 1


def test_invalid_log_level_names_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FARMSTREAM_LOG_LEVEL", "LOUD")

    with pytest.raises(SystemExit) as exit_info:
        main(["stack", "status"])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "FARMSTREAM_LOG_LEVEL" in error
    assert "'LOUD'" in error


def test_every_command_help_describes_it() -> None:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    missing = [name for name, command in commands.choices.items() if not command.description]
    assert missing == []
