"""API keys: generation, salted hashing, verification and the api_keys table.

A key reads ``fsk_<key_id>.<secret>``. The key id is public and locates the row; only a salted
SHA-256 digest of the secret is stored. The secret carries 256 random bits, so a fast hash is
enough: there is nothing to brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

KEY_PREFIX = "fsk_"
_HASH_SCHEME = "sha256"
_DUMMY_HASH = f"{_HASH_SCHEME}${'00' * 16}${'00' * 32}"


@dataclass(frozen=True)
class ApiKey:
    """A stored API key, without its secret."""

    key_id: str
    name: str
    farm_ids: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Principal:
    """The caller of a request: the API key that authenticated it and the farms it may read."""

    key_id: str
    name: str
    farm_ids: frozenset[str]

    def allows(self, farm_id: str) -> bool:
        """Return whether the key may read the farm."""
        return farm_id in self.farm_ids


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """Return ``sha256$<salt hex>$<digest hex>`` for a secret, with a fresh salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.sha256(salt + secret.encode()).hexdigest()
    return f"{_HASH_SCHEME}${salt.hex()}${digest}"


def verify_secret(secret: str, stored_hash: str) -> bool:
    """Return whether the secret matches a stored hash, comparing digests in constant time."""
    scheme, _, rest = stored_hash.partition("$")
    salt_hex, _, digest_hex = rest.partition("$")
    if scheme != _HASH_SCHEME or not salt_hex or not digest_hex:
        return False
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    expected = hash_secret(secret, salt).rpartition("$")[2]
    return hmac.compare_digest(expected, digest_hex)


def generate_key() -> tuple[str, str, str]:
    """Return a new (key id, full key to hand out, hash to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{KEY_PREFIX}{key_id}.{secret}", hash_secret(secret)


def split_key(key: str) -> tuple[str, str] | None:
    """Return (key id, secret) of a well-formed key, or None."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, dot, secret = key[len(KEY_PREFIX) :].partition(".")
    if not dot or not key_id or not secret:
        return None
    return key_id, secret


async def authenticate(connection: psycopg.AsyncConnection[object], key: str) -> Principal | None:
    """Return the principal of a valid, unrevoked key, or None for any other key."""
    parts = split_key(key)
    if parts is None:
        verify_secret("", _DUMMY_HASH)
        return None
    key_id, secret = parts
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT key_id, name, key_hash, farm_ids FROM api_keys WHERE key_id = %s AND revoked_at IS NULL",
            (key_id,),
        )
        row = await cursor.fetchone()
    # Hash even for an unknown id so a miss takes as long as a wrong secret.
    if row is None:
        verify_secret(secret, _DUMMY_HASH)
        return None
    if not verify_secret(secret, row["key_hash"]):
        return None
    return Principal(key_id=row["key_id"], name=row["name"], farm_ids=frozenset(row["farm_ids"]))


class KeyCache:
    """Principals of recently verified keys, each reused for ``ttl_seconds`` after its verification.

    A revoked key therefore keeps working in each API process for at most ``ttl_seconds`` after
    the revocation commits. Entries are found by the SHA-256 digest of the full key, so the
    process does not keep the keys themselves. Only successful verifications are cached, so
    invalid keys cannot fill the cache; past ``max_entries`` the oldest entry goes first.
    """

    def __init__(
        self, ttl_seconds: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[bytes, tuple[float, Principal]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Principal | None:
        """Return the principal of a key verified less than ``ttl_seconds`` ago, or None."""
        if self.ttl_seconds <= 0:
            return None
        digest = hashlib.sha256(key.encode()).digest()
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires_at, principal = entry
        if self._clock() >= expires_at:
            del self._entries[digest]
            return None
        return principal

    def put(self, key: str, principal: Principal) -> None:
        """Remember a key that ``authenticate`` has just verified."""
        if self.ttl_seconds <= 0:
            return
        digest = hashlib.sha256(key.encode()).digest()
        self._entries.pop(digest, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[digest] = (self._clock() + self.ttl_seconds, principal)


def create_key(connection: psycopg.Connection[object], name: str, farm_ids: list[str]) -> tuple[str, str]:
    """Insert a new key scoped to the farms and return (key id, full key); the full key is not stored."""
    key_id, key, key_hash = generate_key()
    connection.execute(
        "INSERT INTO api_keys (key_id, name, key_hash, farm_ids, created_at) VALUES (%s, %s, %s, %s, now())",
        (key_id, name, key_hash, farm_ids),
    )
    return key_id, key


def revoke_key(connection: psycopg.Connection[object], key_id: str) -> bool:
    """Mark a key revoked and return whether an active key with that id existed."""
    cursor = connection.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL", (key_id,)
    )
    return cursor.rowcount == 1


def list_keys(connection: psycopg.Connection[object]) -> list[ApiKey]:
    """Return every key, active and revoked, oldest first."""
    with connection.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT key_id, name, farm_ids, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id"
        )
        rows = cursor.fetchall()
    return [
        ApiKey(
            key_id=row["key_id"],
            name=row["name"],
            farm_ids=tuple(row["farm_ids"]),
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
        )
        for row in rows
    ]


def unknown_farms(connection: psycopg.Connection[object], farm_ids: list[str]) -> list[str]:
    """Return the farm ids that are not in the farms table, in the order given."""
    cursor = connection.execute("SELECT farm_id FROM farms WHERE farm_id = ANY(%s)", (farm_ids,))
    known = {row[0] for row in cursor.fetchall()}  # type: ignore[index]
    return [farm_id for farm_id in farm_ids if farm_id not in known]
