"""`farmstream api`: serve the REST API with uvicorn, after applying pending migrations."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import psycopg
import uvicorn

from api.app import create_app
from api.config import ApiSettings
from farmstream.cli import CommandError
from migrations import MigrationError, apply_migrations

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "api",
        help="Serve the REST API, /metrics and the health checks.",
        description="Serve the REST API with uvicorn. Settings come from FARMSTREAM_DATABASE_URL, "
        "FARMSTREAM_KAFKA_BOOTSTRAP, FARMSTREAM_API_HOST, FARMSTREAM_API_PORT, FARMSTREAM_API_POOL_SIZE "
        "and the other FARMSTREAM_API_* variables.",
    )
    parser.add_argument("--host", help="Listen address (default FARMSTREAM_API_HOST, else 127.0.0.1).")
    parser.add_argument("--port", type=int, help="Listen port (default FARMSTREAM_API_PORT, else 8000).")
    parser.add_argument(
        "--no-migrate", action="store_true", help="Do not apply pending database migrations at start."
    )
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if arguments.host is not None:
        overrides["api_host"] = arguments.host
    if arguments.port is not None:
        overrides["api_port"] = arguments.port
    settings = ApiSettings(**overrides)
    if settings.api_migrate_on_start and not arguments.no_migrate:
        _migrate(settings)
    logger.info("starting the API", extra={"host": settings.api_host, "port": settings.api_port})
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )
    return 0


def _migrate(settings: ApiSettings) -> None:
    try:
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as connection:
            applied = apply_migrations(connection)
    except psycopg.OperationalError as error:
        raise CommandError(
            f"cannot apply migrations, the database is unreachable ({error}). Start PostgreSQL, "
            "check FARMSTREAM_DATABASE_URL, or pass --no-migrate."
        ) from error
    except MigrationError as error:
        raise CommandError(str(error)) from error
    if applied:
        logger.info("applied migrations", extra={"versions": ",".join(str(version) for version in applied)})
