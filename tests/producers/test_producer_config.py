"""Tests of the scraper settings and the farms file (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.config import ScraperSettings
from producers.farms import FarmsFileError, load_farms_file


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_no_accounts_names_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FARMS_FILE", "PORTAL_URL", "PORTAL_USERNAME", "PORTAL_PASSWORD", "FARM_ID"):
        monkeypatch.delenv(f"FARMSTREAM_{name}", raising=False)
    monkeypatch.setenv("FARMSTREAM_PORTAL_URL", "http://127.0.0.1:8800")
    with pytest.raises(ValidationError, match="FARMSTREAM_PORTAL_PASSWORD"):
        ScraperSettings(_env_file=None)  # type: ignore[call-arg]


def test_single_account_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FARMSTREAM_FARMS_FILE", raising=False)
    monkeypatch.setenv("FARMSTREAM_PORTAL_URL", "http://127.0.0.1:8800")
    monkeypatch.setenv("FARMSTREAM_PORTAL_USERNAME", "grower")
    monkeypatch.setenv("FARMSTREAM_PORTAL_PASSWORD", "hunter2")
    monkeypatch.setenv("FARMSTREAM_FARM_ID", "farm-a")
    monkeypatch.setenv("FARMSTREAM_FARM_TIMEZONE", "America/Chicago")
    settings = ScraperSettings(_env_file=None)  # type: ignore[call-arg]
    [account] = settings.accounts()
    assert account.portal_url == "http://127.0.0.1:8800/"
    assert account.timezone == "America/Chicago"
    assert settings.scrape_interval_seconds == 300.0
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(account)


def test_farms_file_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "farms.json",
        {
            "portal_url": "http://127.0.0.1:8800",
            "farms": [
                {"farm_id": "farm-1", "username": "a", "password": "p1", "timezone": "America/Chicago"},
                {
                    "farm_id": "farm-2",
                    "username": "b",
                    "password": "p2",
                    "portal_url": "http://127.0.0.1:8801/",
                },
            ],
        },
    )
    accounts = load_farms_file(path)
    assert [account.farm_id for account in accounts] == ["farm-1", "farm-2"]
    assert accounts[0].portal_url == "http://127.0.0.1:8800/"
    assert accounts[1].portal_url == "http://127.0.0.1:8801/"
    assert accounts[1].timezone == "UTC"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"farms": {}}, "expected"),
        ({"portal_url": "http://127.0.0.1/", "farms": []}, "the farms list is empty"),
        ({"farms": [{"farm_id": "f", "username": "u", "password": "p"}]}, "portal_url"),
        (
            {
                "portal_url": "http://127.0.0.1/",
                "farms": [{"farm_id": "f", "username": "u", "password": "p", "timezone": "Mars/Base"}],
            },
            "unknown time zone",
        ),
        (
            {
                "portal_url": "http://127.0.0.1/",
                "farms": [
                    {"farm_id": "f", "username": "u", "password": "p"},
                    {"farm_id": "f", "username": "v", "password": "q"},
                ],
            },
            "duplicate farm_id f",
        ),
    ],
)
def test_invalid_farms_file_rejected(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(FarmsFileError, match=message):
        load_farms_file(_write(tmp_path / "farms.json", document))


def test_farms_file_error_hides_password(tmp_path: Path) -> None:
    document = {
        "portal_url": "ftp://127.0.0.1/",
        "farms": [{"farm_id": "f", "username": "u", "password": "s3cr3t"}],
    }
    with pytest.raises(FarmsFileError) as caught:
        load_farms_file(_write(tmp_path / "farms.json", document))
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize("interval", ["inf", "nan", "0", "90000"])
def test_scrape_interval_out_of_range(monkeypatch: pytest.MonkeyPatch, interval: str) -> None:
    monkeypatch.setenv("FARMSTREAM_SCRAPE_INTERVAL_SECONDS", interval)
    with pytest.raises(ValidationError, match="scrape_interval_seconds"):
        ScraperSettings()


def test_farms_file_login_style(tmp_path: Path) -> None:
    farms = [
        {"farm_id": "farm-1", "username": "a", "password": "p1"},
        {"farm_id": "farm-2", "username": "b", "password": "p2", "login_style": "api"},
    ]
    path = _write(tmp_path / "farms.json", {"portal_url": "http://127.0.0.1:8800", "farms": farms})
    accounts = load_farms_file(path)
    assert [account.login_style for account in accounts] == ["classic", "api"]


def test_unknown_login_style_names_farm(tmp_path: Path) -> None:
    farm = {"farm_id": "farm-9", "username": "u", "password": "p", "login_style": "bearer"}
    path = _write(tmp_path / "farms.json", {"portal_url": "http://127.0.0.1/", "farms": [farm]})
    with pytest.raises(FarmsFileError) as caught:
        load_farms_file(path)
    message = str(caught.value)
    assert "farms[0] (farm_id 'farm-9')" in message
    assert "unknown login_style 'bearer'" in message
    assert "'classic'" in message
    assert "'api'" in message


def test_login_style_changes_fingerprint(tmp_path: Path) -> None:
    farm = {"farm_id": "farm-1", "username": "a", "password": "p1"}
    path = _write(tmp_path / "farms.json", {"portal_url": "http://127.0.0.1/", "farms": [farm]})
    [classic] = load_farms_file(path)
    _write(path, {"portal_url": "http://127.0.0.1/", "farms": [{**farm, "login_style": "api"}]})
    [api] = load_farms_file(path)
    assert classic.credentials_fingerprint() != api.credentials_fingerprint()


def _single_account_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FARMSTREAM_FARMS_FILE", raising=False)
    monkeypatch.setenv("FARMSTREAM_PORTAL_URL", "http://127.0.0.1:8800")
    monkeypatch.setenv("FARMSTREAM_PORTAL_USERNAME", "grower")
    monkeypatch.setenv("FARMSTREAM_PORTAL_PASSWORD", "hunter2")
    monkeypatch.setenv("FARMSTREAM_FARM_ID", "farm-a")


def test_single_account_login_style(monkeypatch: pytest.MonkeyPatch) -> None:
    _single_account_environment(monkeypatch)
    monkeypatch.delenv("FARMSTREAM_FARM_LOGIN_STYLE", raising=False)
    [default] = ScraperSettings(_env_file=None).accounts()  # type: ignore[call-arg]
    monkeypatch.setenv("FARMSTREAM_FARM_LOGIN_STYLE", "api")
    [account] = ScraperSettings(_env_file=None).accounts()  # type: ignore[call-arg]
    assert default.login_style == "classic"
    assert account.login_style == "api"


def test_invalid_login_style_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _single_account_environment(monkeypatch)
    monkeypatch.setenv("FARMSTREAM_FARM_LOGIN_STYLE", "Bearer")
    with pytest.raises(ValidationError, match="unknown login_style 'Bearer'") as caught:
        ScraperSettings(_env_file=None)  # type: ignore[call-arg]
    assert caught.value.errors()[0]["loc"] == ("farm_login_style",)


def test_empty_listed_houses_file_means_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FARMSTREAM_LISTED_HOUSES_FILE", "")
    monkeypatch.setenv("FARMSTREAM_FARMS_FILE", str(tmp_path / "farms.json"))
    assert ScraperSettings(_env_file=None).listed_houses_file is None  # type: ignore[call-arg]


@pytest.mark.parametrize("folder", [".", "/", "{tmp}"])
def test_listed_houses_file_not_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, folder: str) -> None:
    monkeypatch.setenv("FARMSTREAM_LISTED_HOUSES_FILE", folder.format(tmp=tmp_path))
    monkeypatch.setenv("FARMSTREAM_FARMS_FILE", str(tmp_path / "farms.json"))
    with pytest.raises(ValidationError, match="listed_houses_file"):
        ScraperSettings(_env_file=None)  # type: ignore[call-arg]
