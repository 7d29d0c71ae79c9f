"""`farmstream topics create|list`: the pipeline's Kafka topics under FARMSTREAM_TOPIC_PREFIX."""

from __future__ import annotations

import argparse
from typing import Any

from farmstream.cli import CommandError
from farmstream.stack.config import TopicSettings
from farmstream.stack.exceptions import TopicError
from farmstream.stack.topics import create_topics, list_topics


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "topics",
        help="Create or list the pipeline's Kafka topics.",
        description="Create every topic of schemas.topics with its partitions and retention (idempotent), "
        "or list the topics under the prefix. The broker comes from FARMSTREAM_KAFKA_BOOTSTRAP, the "
        "prefix from FARMSTREAM_TOPIC_PREFIX.",
    )
    parser.add_argument("action", choices=("create", "list"), help="What to do with the topics.")
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    settings = TopicSettings()
    try:
        if arguments.action == "create":
            states = create_topics(
                settings.kafka_bootstrap,
                settings.topic_prefix,
                replication_factor=settings.topic_replication_factor,
            )
            for state in states:
                outcome = "created" if state.created else "exists"
                print(f"{state.name} partitions={state.partitions} {outcome}")
            return 0
        for name, partitions in list_topics(settings.kafka_bootstrap, settings.topic_prefix).items():
            print(f"{name} partitions={partitions}")
        return 0
    except TopicError as error:
        raise CommandError(str(error)) from error
