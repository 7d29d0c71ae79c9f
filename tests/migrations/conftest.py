"""Fixtures of the migration tests: a fresh database per test, and the TimescaleDB lane server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

__all__ = ["fresh_database_url"]


@pytest.fixture
def fresh_database_url(admin_database_url: str) -> Iterator[str]:
    """Return the URL of an empty database on the stack's PostgreSQL, dropped after the test."""
    name = f"test_migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{name}"))
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
