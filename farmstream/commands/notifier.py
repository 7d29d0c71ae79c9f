"""`farmstream notifier`: deliver alerts from the alerts topic by webhook and e-mail."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from farmstream.cli import CommandError
from farmstream.startup import ensure_pipeline_topics
from notifier.config import NotifierSettings, load_config
from notifier.exceptions import NotifierConfigError, NotifierError
from notifier.metrics import NotifierMetrics, start_metrics_server
from notifier.service import NotifierService

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "notifier",
        help="Deliver alerts by webhook and e-mail according to routing rules.",
        description="Consume the alerts topic and deliver each alert state to the channels its routing "
        "rules name, once, recording every delivery in the database.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="Routing configuration file, TOML or JSON (default: FARMSTREAM_NOTIFIER_CONFIG).",
    )
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    settings = NotifierSettings()
    ensure_pipeline_topics(settings.kafka_bootstrap, settings.topic_prefix)
    path: Path | None = arguments.config or settings.notifier_config
    if path is None:
        raise CommandError(
            "no notifier configuration: pass --config FILE or set FARMSTREAM_NOTIFIER_CONFIG"
            " to a TOML or JSON file of channels and routing rules"
        )
    try:
        config = load_config(path)
    except NotifierConfigError as error:
        raise CommandError(str(error)) from None

    metrics = NotifierMetrics()
    if settings.notifier_metrics_port:
        try:
            start_metrics_server(settings.notifier_metrics_port, host=settings.metrics_host)
        except OSError as error:
            raise CommandError(
                f"cannot serve metrics on {settings.metrics_host}:{settings.notifier_metrics_port}: "
                f"{error.strerror}: set FARMSTREAM_NOTIFIER_METRICS_PORT to a free port, "
                "or 0 to turn metrics off"
            ) from None
        logger.info(
            "metrics served",
            extra={"address": f"http://{settings.metrics_host}:{settings.notifier_metrics_port}/"},
        )

    stop = threading.Event()

    def request_stop(signal_number: int, _frame: FrameType | None) -> None:
        logger.info("stop requested", extra={"signal": signal.Signals(signal_number).name})
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        NotifierService(settings, config, metrics).run(stop)
    except NotifierError as error:
        raise CommandError(str(error)) from None
    return 0
