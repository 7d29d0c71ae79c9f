"""`farmstream apikey create|list|revoke` against the real PostgreSQL, and the keys it prints."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.config import ApiSettings
from api.keys import KeyCache
from farmstream.cli import main
from tests.api.fake_clock import FakeClock

pytestmark = pytest.mark.integration

RUN_CLI = "import sys; from farmstream.cli import main; sys.exit(main())"


@pytest.fixture
def farm_id(api_postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Insert a farm of its own and point FARMSTREAM_DATABASE_URL at the API tests' database."""
    farm = f"cli-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(api_postgres_url, autocommit=True) as connection:
        connection.execute("INSERT INTO farms (farm_id, name) VALUES (%s, 'CLI farm')", (farm,))
    monkeypatch.setenv("FARMSTREAM_DATABASE_URL", api_postgres_url)
    return farm


def _printed(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    lines = capsys.readouterr().out.splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def test_create_list_revoke_key(
    farm_id: str, api_postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apikey", "create", "--name", "barn tablet", "--farm", farm_id]) == 0
    printed = _printed(capsys)
    key_id, key = printed["key_id"], printed["key"]
    assert key.startswith(f"fsk_{key_id}.")

    with psycopg.connect(api_postgres_url) as connection:
        stored = connection.execute("SELECT key_hash FROM api_keys WHERE key_id = %s", (key_id,)).fetchone()
    assert stored is not None
    assert key.partition(".")[2] not in stored[0]

    settings = ApiSettings(database_url=api_postgres_url, api_pool_size=2)
    clock = FakeClock()
    key_cache = KeyCache(settings.api_key_cache_seconds, clock=clock)
    with TestClient(create_app(settings, registry=CollectorRegistry(), key_cache=key_cache)) as client:
        farms = client.get("/farms", headers={"X-API-Key": key}).json()
        assert [farm["farm_id"] for farm in farms["data"]] == [farm_id]

        assert main(["apikey", "list"]) == 0
        listing = capsys.readouterr().out
        assert key_id in listing
        assert key.partition(".")[2] not in listing

        assert main(["apikey", "revoke", key_id]) == 0
        capsys.readouterr()
        # The API reuses a verified key until its cache entry expires, then looks it up again.
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 200
        clock.advance(settings.api_key_cache_seconds)
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 401

    assert main(["apikey", "revoke", key_id]) == 1
    assert f"no active key with id '{key_id}'" in capsys.readouterr().err


def test_create_rejects_unknown_farm(farm_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = f"{farm_id}-missing"
    assert main(["apikey", "create", "--name", "ops", "--farm", farm_id, "--farm", unknown]) == 1
    error = capsys.readouterr().err
    assert f"farm {unknown} not found" in error
    assert "--allow-unknown-farm" in error
    assert main(["apikey", "create", "--name", "ops", "--farm", unknown, "--allow-unknown-farm"]) == 0
    assert _printed(capsys)["key"].startswith("fsk_")


def test_create_rejects_empty_name(farm_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "create", "--name", "  ", "--farm", farm_id]) == 1
    assert "invalid --name" in capsys.readouterr().err


def test_list_into_closed_pipe_is_quiet(farm_id: str, api_postgres_url: str) -> None:
    environment = {**os.environ, "FARMSTREAM_DATABASE_URL": api_postgres_url}
    for number in range(3):
        assert main(["apikey", "create", "--name", f"pipe {number}", "--farm", farm_id]) == 0
    # The reader closes its end before the command writes, as `| head` does once it has its lines.
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from farmstream.cli import main; sys.exit(main())",
            "apikey",
            "list",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    assert b"BrokenPipeError" not in stderr
