"""Database schema of farmstream: numbered SQL migrations and the runner that applies them.

Shared by the sinks, the API and ``farmstream migrate``; it imports no other farmstream package, so
no stage has to import another to build the schema.
"""

from migrations.runner import (
    ADVISORY_LOCK_KEY,
    Lane,
    Migration,
    MigrationError,
    MigrationSettings,
    applied_versions,
    apply_migrations,
    apply_timescaledb_policies,
    detect_lane,
    load_migrations,
)

__all__ = [
    "ADVISORY_LOCK_KEY",
    "Lane",
    "Migration",
    "MigrationError",
    "MigrationSettings",
    "applied_versions",
    "apply_migrations",
    "apply_timescaledb_policies",
    "detect_lane",
    "load_migrations",
]
