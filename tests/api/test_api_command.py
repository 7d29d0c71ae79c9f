"""`farmstream api` start-up options, with uvicorn.run replaced by a recorder (no server starts)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import uvicorn

from farmstream.cli import main


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """Record the arguments of each uvicorn.run call instead of serving."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.setenv("FARMSTREAM_API_PORT", "18000")
    return calls


def test_one_worker_serves_app_object(uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    assert main(["api", "--no-migrate"]) == 0
    [(app, options)] = uvicorn_calls
    assert not isinstance(app, str)
    assert options["workers"] == 1
    assert options["factory"] is False
    assert options["port"] == 18000
    assert options["http"] == "httptools"
    assert options["loop"] == "uvloop"


def test_workers_use_factory_import_string(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # setenv first, so monkeypatch restores the variable that the command sets for its workers.
    monkeypatch.setenv("FARMSTREAM_LOG_LEVEL", "INFO")
    assert main(["--log-level", "WARNING", "api", "--no-migrate", "--workers", "2"]) == 0
    [(app, options)] = uvicorn_calls
    assert app == "farmstream.commands.api:create_worker_app"
    assert os.environ["FARMSTREAM_LOG_LEVEL"] == "WARNING"
    assert options["workers"] == 2
    assert options["factory"] is True
    assert options["http"] == "httptools"
    assert options["loop"] == "uvloop"


def test_zero_workers_rejected(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api", "--no-migrate", "--workers", "0"]) == 1
    assert "invalid --workers 0" in capsys.readouterr().err
    assert uvicorn_calls == []
