"""Tests of `farmstream migrate` and the argument parsing of `farmstream sink`.

The migrate test is an integration test against the stack's PostgreSQL, on a database of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from farmstream.cli import CommandError, main
from farmstream.commands.sink import parse_topics
from migrations import load_migrations


@pytest.fixture
def empty_database_url(admin_database_url: str) -> Iterator[str]:
    name = f"test_migrate_cli_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{name}"))
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.integration
def test_migrate_prints_applied_versions(empty_database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    versions = ", ".join(f"{migration.version:04d}" for migration in load_migrations("postgres"))

    first_status = main(["migrate", "--database-url", empty_database_url])
    first = capsys.readouterr().out
    second_status = main(["migrate", "--database-url", empty_database_url])
    second = capsys.readouterr().out

    assert first_status == 0
    assert second_status == 0
    assert first.splitlines() == [f"applied {versions} on the postgres lane", f"schema versions: {versions}"]
    assert second.splitlines() == ["nothing to apply on the postgres lane", f"schema versions: {versions}"]


def test_migrate_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"])

    assert status == 1
    assert "cannot connect to the database" in capsys.readouterr().err


def test_sink_topics_parsed_in_order() -> None:
    assert parse_topics("alerts, readings,alerts") == ("alerts", "readings")
    assert parse_topics("dead-letter") == ("dead-letter",)


@pytest.mark.parametrize("text", ["", "readings,bogus", " , "])
def test_sink_topics_invalid(text: str) -> None:
    with pytest.raises(CommandError, match="invalid --topics"):
        parse_topics(text)
