"""Cache of verified API keys: expiry, size bound and revocation through the API.

Unit tests use a fake clock and no database. Integration tests run the API against the stack's
PostgreSQL, with a farm and keys of their own.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.config import ApiSettings
from api.keys import KeyCache, Principal, create_key, revoke_key
from tests.api.fake_clock import FakeClock

NORTH = Principal(key_id="aaaaaaaaaaaa", name="north tablet", farm_ids=frozenset({"north"}))
SOUTH = Principal(key_id="bbbbbbbbbbbb", name="south tablet", farm_ids=frozenset({"south"}))
NORTH_KEY = "fsk_aaaaaaaaaaaa.north-secret"
SOUTH_KEY = "fsk_bbbbbbbbbbbb.south-secret"


def test_entry_served_until_ttl() -> None:
    clock = FakeClock()
    cache = KeyCache(5.0, clock=clock)
    cache.put(NORTH_KEY, NORTH)
    clock.advance(4.9)
    assert cache.get(NORTH_KEY) == NORTH
    clock.advance(0.1)
    assert cache.get(NORTH_KEY) is None
    assert len(cache) == 0


def test_other_secret_misses_cache() -> None:
    cache = KeyCache(5.0, clock=FakeClock())
    cache.put(NORTH_KEY, NORTH)
    assert cache.get("fsk_aaaaaaaaaaaa.wrong-secret") is None


def test_zero_ttl_caches_nothing() -> None:
    cache = KeyCache(0.0, clock=FakeClock())
    cache.put(NORTH_KEY, NORTH)
    assert cache.get(NORTH_KEY) is None
    assert len(cache) == 0


def test_full_cache_drops_oldest() -> None:
    cache = KeyCache(5.0, max_entries=2, clock=FakeClock())
    third_key = "fsk_cccccccccccc.third-secret"
    cache.put(NORTH_KEY, NORTH)
    cache.put(SOUTH_KEY, SOUTH)
    cache.put(third_key, NORTH)
    assert len(cache) == 2
    assert cache.get(NORTH_KEY) is None
    assert cache.get(SOUTH_KEY) == SOUTH
    assert cache.get(third_key) == NORTH


def test_cache_stores_no_key() -> None:
    cache = KeyCache(5.0, clock=FakeClock())
    cache.put(NORTH_KEY, NORTH)
    stored = b"".join(cache._entries)
    assert NORTH_KEY.encode() not in stored
    assert b"north-secret" not in stored


@pytest.fixture
def farm_key(api_postgres_url: str) -> tuple[str, str]:
    """Insert a farm of its own with one active key; return (key id, key)."""
    farm = f"cache-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(api_postgres_url, autocommit=True) as connection:
        connection.execute("INSERT INTO farms (farm_id, name) VALUES (%s, 'Key cache farm')", (farm,))
        return create_key(connection, "key cache test", [farm])


def _revoke(api_postgres_url: str, key_id: str) -> None:
    with psycopg.connect(api_postgres_url, autocommit=True) as connection:
        assert revoke_key(connection, key_id)


@pytest.mark.integration
def test_revoked_key_rejected_after_ttl(api_postgres_url: str, farm_key: tuple[str, str]) -> None:
    key_id, key = farm_key
    settings = ApiSettings(database_url=api_postgres_url, api_pool_size=2, api_key_cache_seconds=5)
    clock = FakeClock()
    registry = CollectorRegistry()
    app = create_app(settings, registry=registry, key_cache=KeyCache(5.0, clock=clock))
    with TestClient(app) as client:
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 200
        _revoke(api_postgres_url, key_id)

        clock.advance(4.9)
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 200
        assert registry.get_sample_value("farmstream_api_key_cache_hits_total") == 1

        clock.advance(0.1)
        response = client.get("/farms", headers={"X-API-Key": key})
        assert response.status_code == 401
        assert response.json() == {"detail": "invalid API key"}


@pytest.mark.integration
def test_zero_ttl_rejects_revoked_key_at_once(api_postgres_url: str, farm_key: tuple[str, str]) -> None:
    key_id, key = farm_key
    settings = ApiSettings(database_url=api_postgres_url, api_pool_size=2, api_key_cache_seconds=0)
    registry = CollectorRegistry()
    with TestClient(create_app(settings, registry=registry)) as client:
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 200
        _revoke(api_postgres_url, key_id)
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 401
        assert registry.get_sample_value("farmstream_api_key_cache_hits_total") == 0


@pytest.mark.integration
def test_wrong_secret_of_cached_key(api_postgres_url: str, farm_key: tuple[str, str]) -> None:
    key_id, key = farm_key
    settings = ApiSettings(database_url=api_postgres_url, api_pool_size=2)
    with TestClient(create_app(settings, registry=CollectorRegistry())) as client:
        assert client.get("/farms", headers={"X-API-Key": key}).status_code == 200
        wrong = f"fsk_{key_id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        assert client.get("/farms", headers={"X-API-Key": wrong}).status_code == 401
