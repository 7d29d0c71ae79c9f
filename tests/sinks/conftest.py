"""Fixtures of the sink tests: migrated databases on both lanes."""

from __future__ import annotations

import psycopg
import pytest

from migrations import apply_migrations

__all__ = ["migrated_database_url"]


@pytest.fixture(scope="session")
def migrated_database_url(database_url: str) -> str:
    """Return the session's plain PostgreSQL database with every migration applied."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        apply_migrations(connection)
    return database_url
