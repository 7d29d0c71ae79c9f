"""`farmstream api`: serve the REST API with uvicorn, after applying pending migrations."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.config import ApiSettings
from farmstream.cli import CommandError
from farmstream.logging_setup import configure_logging
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
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes, each with its own database pool of FARMSTREAM_API_POOL_SIZE "
        "connections (default 1).",
    )
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
    if arguments.workers < 1:
        raise CommandError(f"invalid --workers {arguments.workers}: give 1 or more worker processes")
    settings = ApiSettings(**overrides)
    if settings.api_migrate_on_start and not arguments.no_migrate:
        _migrate(settings)
    logger.info(
        "starting the API",
        extra={"host": settings.api_host, "port": settings.api_port, "workers": arguments.workers},
    )
    # Several workers need an import string: each worker process builds its own app and pool, with
    # settings read again from the same FARMSTREAM_* variables, and the log level passed on in one.
    app: Any = create_app(settings) if arguments.workers == 1 else f"{__name__}:create_worker_app"
    if arguments.workers > 1:
        os.environ["FARMSTREAM_LOG_LEVEL"] = arguments.log_level
    uvicorn.run(
        app,
        factory=arguments.workers > 1,
        workers=arguments.workers,
        host=settings.api_host,
        port=settings.api_port,
        # The C HTTP parser and event loop cost less CPU per request than h11 and asyncio's own loop.
        http="httptools",
        loop="uvloop",
        log_config=None,
        access_log=False,
    )
    return 0


def create_worker_app() -> FastAPI:
    """Build the API in a uvicorn worker process, which starts without the CLI's logging set-up."""
    configure_logging(os.environ.get("FARMSTREAM_LOG_LEVEL", "INFO"))
    return create_app()


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
