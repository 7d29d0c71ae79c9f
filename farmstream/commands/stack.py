"""`farmstream stack up|down|status`: the local Kafka broker and PostgreSQL cluster."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from farmstream.cli import CommandError
from farmstream.config import StackSettings
from farmstream.stack import kafka, postgres
from farmstream.stack.config import TopicSettings
from farmstream.stack.exceptions import StackError, TopicError
from farmstream.stack.processes import LOOPBACK, stack_lock
from farmstream.stack.status import ComponentStatus
from farmstream.stack.topics import create_topics

Action = Callable[[StackSettings], ComponentStatus]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "stack",
        help="Start, stop or report the local Kafka broker and PostgreSQL cluster.",
        description="Run a real Kafka broker (KRaft) and PostgreSQL on 127.0.0.1 for development and tests. "
        "Ports and folders come from FARMSTREAM_KAFKA_PORT, FARMSTREAM_KAFKA_CONTROLLER_PORT, "
        "FARMSTREAM_POSTGRES_PORT, FARMSTREAM_STACK_DIR and FARMSTREAM_CACHE_DIR.",
    )
    parser.add_argument("action", choices=("up", "down", "status"), help="What to do with the stack.")
    parser.add_argument("--kafka", action="store_true", help="Only the Kafka broker.")
    parser.add_argument("--postgres", action="store_true", help="Only PostgreSQL.")
    parser.add_argument(
        "--no-topics", action="store_true", help="With up: do not create the pipeline's topics."
    )
    parser.set_defaults(func=_run)


def _selected(arguments: argparse.Namespace) -> list[str]:
    if arguments.kafka or arguments.postgres:
        return [name for name in ("postgres", "kafka") if getattr(arguments, name)]
    return ["postgres", "kafka"]


def _run(arguments: argparse.Namespace) -> int:
    settings = StackSettings()
    components = _selected(arguments)
    try:
        if arguments.action == "status":
            return _report([_status_of(name)(settings) for name in components])
        with stack_lock(settings.stack_dir):
            if arguments.action == "up":
                return _up(settings, components, create_pipeline_topics=not arguments.no_topics)
            # Stop the broker first so its clients' last writes are not cut by a missing database.
            return _report([_stop_of(name)(settings) for name in reversed(components)], down_is_success=True)
    except (StackError, TopicError) as error:
        raise CommandError(str(error)) from error


def _up(settings: StackSettings, components: list[str], create_pipeline_topics: bool) -> int:
    started = time.monotonic()
    statuses = [_start_of(name)(settings) for name in components]
    if "kafka" in components and create_pipeline_topics:
        topic_settings = TopicSettings()
        states = create_topics(
            f"{LOOPBACK}:{settings.kafka_port}",
            topic_settings.topic_prefix,
            replication_factor=topic_settings.topic_replication_factor,
        )
        created = sum(state.created for state in states)
        print(f"topics   {len(states)} under prefix {topic_settings.topic_prefix!r}, {created} created")
    status = _report(statuses)
    print(f"stack up in {time.monotonic() - started:.1f} s")
    return status


def _report(statuses: list[ComponentStatus], down_is_success: bool = False) -> int:
    for status in statuses:
        print(status.describe())
    if down_is_success:
        return 0 if not any(status.running for status in statuses) else 1
    return 0 if all(status.running for status in statuses) else 1


def _status_of(name: str) -> Action:
    return kafka.status if name == "kafka" else postgres.status


def _start_of(name: str) -> Action:
    return kafka.start if name == "kafka" else postgres.start


def _stop_of(name: str) -> Action:
    return kafka.stop if name == "kafka" else postgres.stop
