"""Fixtures of the deployment tests: migrated databases of both lanes holding the seeded farm dataset."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from migrations import apply_migrations
from tests.api.api_dataset import Dataset, seed_dataset


@dataclass(frozen=True)
class SeededDatabase:
    lane: str
    url: str
    dataset: Dataset


@pytest.fixture(scope="session")
def deploy_postgres_url(admin_database_url: str) -> Iterator[str]:
    """Return a migrated database of the deployment tests on the stack's PostgreSQL, dropped at the end."""
    name = f"test_deploy_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as connection:
        apply_migrations(connection)
    yield url
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session", params=["postgres", "timescaledb"])
def seeded_database(request: pytest.FixtureRequest) -> SeededDatabase:
    """Return each lane's migrated database with the API tests' farm dataset inserted."""
    lane: str = request.param
    fixture = "deploy_postgres_url" if lane == "postgres" else "timescale_database_url"
    url: str = request.getfixturevalue(fixture)
    return SeededDatabase(lane=lane, url=url, dataset=seed_dataset(url))
