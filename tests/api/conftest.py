"""Fixtures of the API tests: a migrated, seeded database on each lane and a TestClient factory.

The ``postgres`` lane is a database created for this session on the stack's PostgreSQL; the
``timescaledb`` lane is the PGlite TimescaleDB server, which serves one connection at a time, so
tests open direct connections only while no client is running.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from psycopg import sql

from api.app import create_app
from api.config import ApiSettings
from migrations import apply_migrations
from tests.api.api_dataset import Dataset, seed_dataset

LANES = ("postgres", "timescaledb")


@dataclass(frozen=True)
class LaneDatabase:
    """A migrated database of one lane with the seeded dataset."""

    lane: str
    url: str
    dataset: Dataset

    def settings(self, **overrides: Any) -> ApiSettings:
        """Return API settings for this database; PGlite needs one connection and no prepared statements."""
        values: dict[str, Any] = {
            "database_url": self.url,
            "kafka_bootstrap": f"127.0.0.1:{closed_loopback_port()}",
            "api_pool_size": 1 if self.lane == "timescaledb" else 4,
            "api_prepare_statements": self.lane == "postgres",
            "api_pool_timeout_seconds": 30.0,
        }
        values.update(overrides)
        return ApiSettings(**values)


def closed_loopback_port() -> int:
    """Return a loopback port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def api_postgres_url(admin_database_url: str) -> Iterator[str]:
    """Return a migrated database of the API tests' own on the stack's PostgreSQL, dropped at the end."""
    name = f"test_api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as connection:
        apply_migrations(connection)
    yield url
    with psycopg.connect(admin_database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session", params=LANES)
def lane_database(request: pytest.FixtureRequest) -> LaneDatabase:
    """Return the seeded database of each lane in turn."""
    lane: str = request.param
    fixture = "api_postgres_url" if lane == "postgres" else "timescale_database_url"
    url: str = request.getfixturevalue(fixture)
    return LaneDatabase(lane=lane, url=url, dataset=seed_dataset(url))


ClientFactory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def api_client(lane_database: LaneDatabase) -> ClientFactory:
    """Return a factory of running TestClients: ``with api_client(**settings) as client``."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[TestClient]:
        app = create_app(lane_database.settings(**overrides), registry=CollectorRegistry())
        with TestClient(app) as client:
            yield client

    return start


@pytest.fixture
def client(api_client: ClientFactory) -> Iterator[TestClient]:
    """Return a running TestClient with default settings."""
    with api_client() as running:
        yield running
