"""`farmstream scrape`: run the scraper service (or one cycle with --once).

Serves Prometheus metrics on FARMSTREAM_SCRAPER_METRICS_PORT (default 9101). SIGINT or SIGTERM
stops it after the running cycle, and the producer is flushed before exit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from pydantic import ValidationError

from farmstream.cli import CommandError
from farmstream.startup import ensure_pipeline_topics
from producers.config import ScraperSettings
from producers.farms import FarmsFileError
from producers.metrics import ScraperMetrics
from producers.publisher import EventPublisher
from producers.scraper import Scraper

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "scrape",
        help="Scrape every farm's portal account on an interval and publish to Kafka.",
        description=__doc__,
    )
    parser.add_argument("--once", action="store_true", help="Run one scrape cycle, flush and exit.")
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    try:
        settings = ScraperSettings()
    except ValidationError as error:
        # A missing account names several variables itself; field errors go to the CLI's formatter.
        whole = [item for item in error.errors() if not item["loc"]]
        if whole:
            raise CommandError(str(whole[0]["msg"]).removeprefix("Value error, ")) from error
        raise
    ensure_pipeline_topics(settings.kafka_bootstrap, settings.topic_prefix)
    registry = CollectorRegistry()
    metrics = ScraperMetrics(registry)
    if settings.scraper_metrics_port:
        try:
            start_http_server(settings.scraper_metrics_port, addr=settings.metrics_host, registry=registry)
        except OSError as error:
            raise CommandError(
                f"cannot serve metrics on {settings.metrics_host}:{settings.scraper_metrics_port}: "
                f"{error.strerror}; set FARMSTREAM_SCRAPER_METRICS_PORT to a free port or 0"
            ) from error

    publisher = EventPublisher.connect(
        settings.kafka_bootstrap,
        prefix=settings.topic_prefix,
        metrics=metrics,
        linger_ms=settings.producer_linger_ms,
        flush_timeout=settings.flush_timeout_seconds,
    )
    try:
        scraper = Scraper(settings, publisher=publisher, metrics=metrics)
        scraper.refresh_accounts()
    except FarmsFileError as error:
        raise CommandError(str(error)) from error

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info(
            "stop requested; finishing the current cycle", extra={"signal": signal.Signals(signum).name}
        )
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGTERM, signal.SIGINT)}
    logger.info(
        "scraper started",
        extra={"farms": len(scraper.coordinators), "interval_s": settings.scrape_interval_seconds},
    )
    try:
        logs = scraper.run(stop, once=arguments.once)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        scraper.close()
        undelivered = publisher.flush()
        logger.info("scraper stopped", extra={"undelivered": undelivered})
    failed = sorted(log.farm_id for log in logs if log.outcome in ("failed", "auth_failed"))
    if arguments.once and failed:
        # A one-off run (cron, a check after setup) must tell its caller that a farm was not scraped.
        logger.error(
            "scrape of %d of %d farms failed: %s; see the scrape-log lines above",
            len(failed),
            len(logs),
            ", ".join(failed),
        )
        return 1
    return 0 if undelivered == 0 else 1
