"""Kafka topics: names, partition counts and message keys, defined once for every stage.

Topic names carry a prefix (``farmstream.`` by default) so that tests and parallel deployments can
run side by side on one broker. Every stage takes the prefix from its settings and builds names
with :func:`topic_name`.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "farmstream."


@dataclass(frozen=True)
class TopicSpec:
    """A topic of the pipeline and the contract of its messages."""

    suffix: str
    partitions: int
    key: str
    value: str
    retention_ms: int
    cleanup_policy: str = "delete"


_DAY_MS = 24 * 3600 * 1000

READINGS = TopicSpec(
    suffix="readings",
    partitions=6,
    key="farm_id/house_number, so one controller's events stay in order on one partition",
    value="Reading or HouseStatus (kind discriminator)",
    retention_ms=7 * _DAY_MS,
)
SCRAPE_LOG = TopicSpec(
    suffix="scrape-log",
    partitions=3,
    key="farm_id",
    value="ScrapeLog",
    retention_ms=30 * _DAY_MS,
)
DEAD_LETTER = TopicSpec(
    suffix="dead-letter",
    partitions=3,
    key="farm_id, or the stage name when no farm is known",
    value="DeadLetter",
    retention_ms=30 * _DAY_MS,
)
ALERTS = TopicSpec(
    suffix="alerts",
    partitions=6,
    key="farm_id/house_number (house '-' for farm-wide alerts)",
    value="Alert",
    retention_ms=30 * _DAY_MS,
)
PREDICTIONS = TopicSpec(
    suffix="predictions",
    partitions=6,
    key="farm_id/house_number",
    value="FailurePrediction or Recommendation (kind discriminator)",
    retention_ms=30 * _DAY_MS,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (READINGS, SCRAPE_LOG, DEAD_LETTER, ALERTS, PREDICTIONS)


def topic_name(spec: TopicSpec, prefix: str = DEFAULT_PREFIX) -> str:
    """Return the full name of a topic under a prefix."""
    return f"{prefix}{spec.suffix}"
