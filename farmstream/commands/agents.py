"""`farmstream agents`: run the stream-processor worker (Faust agents over the readings topic).

Serves Prometheus metrics at http://127.0.0.1:FARMSTREAM_AGENTS_METRICS_PORT/metrics (default
9102). SIGINT (Ctrl-C) or SIGTERM stops the worker after writing a final checkpoint per partition.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from farmstream.cli import CommandError
from farmstream.startup import ensure_pipeline_topics

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "agents",
        help="Run the stream processors: anomaly detection, failure scoring and alerts.",
        description=__doc__,
    )
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    import faust

    from stream_processors.app import create_app
    from stream_processors.config import AgentSettings

    settings = AgentSettings()
    ensure_pipeline_topics(settings.kafka_bootstrap, settings.topic_prefix)
    try:
        settings.agents_data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(
            f"cannot create {settings.agents_data_dir}: {error.strerror}; set FARMSTREAM_AGENTS_DATA_DIR"
        ) from error
    agents = create_app(settings)
    logger.info(
        "agents starting",
        extra={
            "topic": agents.topics.readings,
            "bootstrap": agents.bootstrap,
            "port": settings.agents_metrics_port,
        },
    )
    # Faust's worker installs SIGINT and SIGTERM handlers and stops the app cleanly on either.
    worker = faust.Worker(
        agents.app,
        loglevel=logging.getLevelName(logging.getLogger().level),
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    # The progress spinner writes terminal escape codes into the log even when quiet.
    worker.spinner = None
    worker.execute_from_commandline()
    logger.info("agents stopped")
    return 0
