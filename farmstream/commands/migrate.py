"""`farmstream migrate`: apply the database migrations and print the versions applied."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from farmstream.cli import CommandError
from migrations import MigrationError, MigrationSettings, applied_versions, apply_migrations, detect_lane


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "migrate",
        help="Apply the database migrations (tables, hypertables, aggregates) and print the versions.",
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL (default: FARMSTREAM_DATABASE_URL, else the local stack's database).",
    )
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    settings = MigrationSettings()
    url = arguments.database_url or settings.database_url
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            applied = apply_migrations(conn, settings)
            lane = detect_lane(conn)
            versions = applied_versions(conn)
    except MigrationError as error:
        raise CommandError(str(error)) from error
    except psycopg.OperationalError as error:
        raise CommandError(
            f"cannot connect to the database: {error}. Check --database-url or FARMSTREAM_DATABASE_URL."
        ) from error

    if applied:
        print(f"applied {', '.join(f'{version:04d}' for version in applied)} on the {lane} lane")
    else:
        print(f"nothing to apply on the {lane} lane")
    print(f"schema versions: {', '.join(f'{version:04d}' for version in versions)}")
    return 0
