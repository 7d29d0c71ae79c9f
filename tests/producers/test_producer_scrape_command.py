"""Tests of `farmstream scrape`: configuration errors, and one cycle through the real broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_rotemnet import Account, FakePortal

from farmstream.cli import main
from schemas.events import ScrapeLog
from schemas.topics import SCRAPE_LOG, topic_name

_ACCOUNT_VARIABLES = ("FARMS_FILE", "PORTAL_URL", "PORTAL_USERNAME", "PORTAL_PASSWORD", "FARM_ID")


def test_scrape_without_farms_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in _ACCOUNT_VARIABLES:
        monkeypatch.delenv(f"FARMSTREAM_{name}", raising=False)
    assert main(["scrape", "--once"]) == 1
    assert "no farms configured: set FARMSTREAM_FARMS_FILE" in capsys.readouterr().err


def test_scrape_bad_farms_file_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "farms.json").write_text("{not json")
    monkeypatch.setenv("FARMSTREAM_FARMS_FILE", str(tmp_path / "farms.json"))
    monkeypatch.setenv("FARMSTREAM_SCRAPER_METRICS_PORT", "0")
    assert main(["scrape", "--once"]) == 1
    assert "invalid JSON in farms file" in capsys.readouterr().err


def _configure_farms(
    monkeypatch: pytest.MonkeyPatch,
    directory: Path,
    portal_url: str,
    farms: list[dict[str, str]],
    bootstrap: str,
    prefix: str,
) -> None:
    """Write a farms file for the portal and point the scraper's variables at it and the broker."""
    path = directory / "farms.json"
    path.write_text(json.dumps({"portal_url": portal_url, "farms": farms}))
    monkeypatch.chdir(directory)
    monkeypatch.setenv("FARMSTREAM_FARMS_FILE", str(path))
    monkeypatch.setenv("FARMSTREAM_KAFKA_BOOTSTRAP", bootstrap)
    monkeypatch.setenv("FARMSTREAM_TOPIC_PREFIX", prefix)
    monkeypatch.setenv("FARMSTREAM_SCRAPER_METRICS_PORT", "0")


@pytest.mark.integration
def test_scrape_once_publishes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    topic_prefix: str,
    kafka_bootstrap: str,
    consume_messages: Callable[..., list[Any]],
) -> None:
    with FakePortal({"grower": Account(password="pw", houses=2)}) as portal:
        farms = [{"farm_id": "farm-cli", "username": "grower", "password": "pw"}]
        _configure_farms(monkeypatch, tmp_path, portal.url, farms, kafka_bootstrap, topic_prefix)
        assert main(["scrape", "--once"]) == 0

    [message] = consume_messages(topic_name(SCRAPE_LOG, topic_prefix), 1)
    log = ScrapeLog.model_validate_json(message.value())
    assert log.farm_id == "farm-cli"
    assert log.outcome == "success"
    assert log.houses_total == 2


@pytest.mark.integration
def test_scrape_once_failed_farm_exits_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    topic_prefix: str,
    kafka_bootstrap: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakePortal({"grower": Account(password="pw", houses=1)}) as portal:
        farms = [
            {"farm_id": "farm-ok", "username": "grower", "password": "pw"},
            {"farm_id": "farm-bad", "username": "grower", "password": "wrong"},
        ]
        _configure_farms(monkeypatch, tmp_path, portal.url, farms, kafka_bootstrap, topic_prefix)
        assert main(["scrape", "--once"]) == 1
    assert "scrape of 1 of 2 farms failed: farm-bad" in capsys.readouterr().err
