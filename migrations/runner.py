"""Apply the numbered SQL migrations in ``migrations/sql`` to a PostgreSQL or TimescaleDB database.

A file is ``NNNN_name.sql`` for both lanes, or a pair ``NNNN_name.postgres.sql`` and
``NNNN_name.timescaledb.sql`` for one version that differs per lane. Applied versions are recorded
in ``schema_migrations``. A session advisory lock serializes concurrent starts of the sink, the API
and ``farmstream migrate``, so two processes never apply the same version.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

Lane = Literal["postgres", "timescaledb"]

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Arbitrary constant shared by every farmstream process: pg_advisory_lock key for migrations.
ADVISORY_LOCK_KEY = 0x6661726D_6D6967  # "farm" "mig"

_FILE_PATTERN = re.compile(
    r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<lane>postgres|timescaledb))?\.sql$"
)


class MigrationError(Exception):
    """The migration files are inconsistent, or the database rejected a migration."""


class MigrationSettings(BaseSettings):
    """Database URL, and ages of the TimescaleDB policies (re-applied on every run, so changes apply)."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream", min_length=1
    )
    compress_after_days: int = Field(
        default=7, ge=1, le=3650, description="Compress readings chunks older than this many days."
    )
    retain_days: int = Field(
        default=365, ge=1, le=36500, description="Drop raw readings older than this many days."
    )


@dataclass(frozen=True)
class Migration:
    """One version of the schema as it applies to one lane."""

    version: int
    name: str
    path: Path

    def read(self) -> str:
        """Return the SQL text of the file."""
        return self.path.read_text(encoding="utf-8")


def load_migrations(lane: Lane, directory: Path = SQL_DIR) -> list[Migration]:
    """Return the migrations of a lane in version order, checking that versions are unambiguous."""
    common: dict[int, Migration] = {}
    per_lane: dict[int, dict[str, Migration]] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(
                f"invalid migration file name {path.name!r}: use NNNN_name.sql or NNNN_name.<lane>.sql"
            )
        version = int(match["version"])
        migration = Migration(version=version, name=match["name"], path=path)
        if match["lane"] is None:
            if version in common or version in per_lane:
                raise MigrationError(f"migration version {version:04d} is defined twice: rename {path.name}")
            common[version] = migration
        else:
            if version in common:
                raise MigrationError(f"migration version {version:04d} is defined twice: rename {path.name}")
            per_lane.setdefault(version, {})[match["lane"]] = migration

    for version, variants in per_lane.items():
        if set(variants) != {"postgres", "timescaledb"}:
            raise MigrationError(
                f"migration version {version:04d} has only a {', '.join(variants)} file: add the other lane"
            )
    chosen = dict(common)
    chosen.update({version: variants[lane] for version, variants in per_lane.items()})
    return [chosen[version] for version in sorted(chosen)]


def detect_lane(conn: psycopg.Connection[Any]) -> Lane:
    """Return ``timescaledb`` when the extension is installed or can be installed, else ``postgres``."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
    ).fetchone()
    return "timescaledb" if row is not None and row[0] else "postgres"


def applied_versions(conn: psycopg.Connection[Any]) -> list[int]:
    """Return the versions recorded in ``schema_migrations``, empty when the table does not exist."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if exists is None or not exists[0]:
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def apply_migrations(conn: psycopg.Connection[Any], settings: MigrationSettings | None = None) -> list[int]:
    """Apply every pending migration and the TimescaleDB policies; return the versions applied now.

    The connection must be idle (no open transaction). Each migration runs in its own transaction,
    so a failing file leaves the earlier ones applied and itself not recorded.
    """
    settings = settings or MigrationSettings()
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise MigrationError("apply_migrations needs an idle connection: commit or roll back first")

    previous_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            lane = detect_lane(conn)
            if lane == "timescaledb":
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = set(applied_versions(conn))
            applied: list[int] = []
            for migration in load_migrations(lane):
                if migration.version in done:
                    continue
                _apply_one(conn, migration, lane)
                applied.append(migration.version)
            if lane == "timescaledb":
                apply_timescaledb_policies(conn, settings)
            return applied
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    finally:
        conn.autocommit = previous_autocommit


def _apply_one(conn: psycopg.Connection[Any], migration: Migration, lane: Lane) -> None:
    logger.info(
        "applying migration", extra={"version": migration.version, "migration": migration.name, "lane": lane}
    )
    try:
        with conn.transaction():
            conn.execute(migration.read().encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    except psycopg.Error as error:
        raise MigrationError(
            f"migration {migration.path.name} failed on the {lane} lane: {error}. "
            "Fix the SQL file and run farmstream migrate again."
        ) from error


# Refresh windows of the continuous aggregates: (view, start offset, end offset, schedule interval).
# The end offset leaves the newest bucket to real-time aggregation, which reads the raw rows.
_AGGREGATE_POLICIES = (
    ("readings_5m", "3 days", "5 minutes", "5 minutes"),
    ("readings_1h", "14 days", "1 hour", "30 minutes"),
    ("readings_1d", "60 days", "1 day", "6 hours"),
)


def apply_timescaledb_policies(conn: psycopg.Connection[Any], settings: MigrationSettings) -> None:
    """Replace the compression, retention and refresh policies with ones built from the settings."""
    compress_after = f"{settings.compress_after_days} days"
    retain = f"{settings.retain_days} days"
    with conn.transaction():
        conn.execute("SELECT remove_compression_policy('readings', if_exists => true)")
        conn.execute("SELECT add_compression_policy('readings', %s::interval)", (compress_after,))
        conn.execute("SELECT remove_retention_policy('readings', if_exists => true)")
        conn.execute("SELECT add_retention_policy('readings', %s::interval)", (retain,))
        for view, start_offset, end_offset, schedule in _AGGREGATE_POLICIES:
            conn.execute(
                sql.SQL("SELECT remove_continuous_aggregate_policy({}, if_exists => true)").format(
                    sql.Literal(view)
                )
            )
            conn.execute(
                sql.SQL(
                    "SELECT add_continuous_aggregate_policy({}, start_offset => %s::interval,"
                    " end_offset => %s::interval, schedule_interval => %s::interval)"
                ).format(sql.Literal(view)),
                (start_offset, end_offset, schedule),
            )
