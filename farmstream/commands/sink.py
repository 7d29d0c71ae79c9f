"""`farmstream sink`: run the Kafka-to-PostgreSQL sink service."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import threading
from types import FrameType
from typing import Any, cast

import psycopg
from prometheus_client import REGISTRY

from farmstream.cli import CommandError
from farmstream.startup import ensure_pipeline_topics
from migrations import MigrationError, MigrationSettings, apply_migrations
from sinks.app import build_sink
from sinks.config import SinkSettings
from sinks.metrics import SinkMetrics, start_metrics_server
from sinks.records import TOPIC_SPECS, TopicKind

logger = logging.getLogger(__name__)

_ALL_KINDS = ",".join(TOPIC_SPECS)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "sink", help="Consume readings, alerts, predictions, scrape logs and dead letters into PostgreSQL."
    )
    parser.add_argument(
        "--topics",
        default=_ALL_KINDS,
        help=f"Comma-separated topics to consume, without prefix (default: {_ALL_KINDS}).",
    )
    parser.add_argument(
        "--skip-migrations", action="store_true", help="Do not apply pending migrations at start."
    )
    parser.set_defaults(func=_run)


def parse_topics(text: str) -> tuple[TopicKind, ...]:
    """Return the topic kinds named in a comma-separated list; raise CommandError for unknown names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TOPIC_SPECS]
    if unknown or not names:
        raise CommandError(f"invalid --topics {text!r}: use a comma-separated list of {_ALL_KINDS}")
    return tuple(cast(TopicKind, name) for name in dict.fromkeys(names))


def _run(arguments: argparse.Namespace) -> int:
    kinds = parse_topics(arguments.topics)
    settings = SinkSettings()
    ensure_pipeline_topics(settings.kafka_bootstrap, settings.topic_prefix)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    if not arguments.skip_migrations:
        _migrate_when_reachable(settings, stop)
        if stop.is_set():
            return 0

    metrics = SinkMetrics(REGISTRY)
    if settings.sink_metrics_port:
        start_metrics_server(settings.sink_metrics_port, host=settings.metrics_host)
    service = build_sink(settings, kinds, metrics)
    # Start-up objects (modules, settings, clients) live as long as the process, so garbage
    # collections need not scan them again for every batch.
    gc.freeze()
    service.run(stop)
    return 0


def _migrate_when_reachable(settings: SinkSettings, stop: threading.Event) -> None:
    delay = settings.sink_retry_initial_seconds
    while not stop.is_set():
        try:
            with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as conn:
                applied = apply_migrations(conn, MigrationSettings(retain_days=settings.retain_days))
        except MigrationError as error:
            raise CommandError(str(error)) from error
        except psycopg.OperationalError as error:
            logger.warning("database unreachable at start, retrying in %.1f s: %s", delay, error)
            stop.wait(delay)
            delay = min(delay * 2, settings.sink_retry_max_seconds)
            continue
        if applied:
            logger.info("migrations applied", extra={"versions": ",".join(str(v) for v in applied)})
        return
