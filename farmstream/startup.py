"""Start-up steps every Kafka service command runs before it starts consuming or producing."""

from __future__ import annotations

from farmstream.cli import CommandError
from farmstream.stack.exceptions import TopicError
from farmstream.stack.topics import create_topics


def ensure_pipeline_topics(bootstrap: str, prefix: str) -> None:
    """Create the pipeline's missing topics with their specified partitions, and check the existing ones.

    Without this a producer could reach a broker that auto-creates topics and get a one-partition topic,
    which breaks the per-controller ordering and the partition counts the stages rely on.
    """
    try:
        create_topics(bootstrap, prefix)
    except TopicError as error:
        raise CommandError(str(error)) from error
