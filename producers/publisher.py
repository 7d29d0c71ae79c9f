"""Kafka publishing of the scraper's events with an idempotent confluent-kafka producer.

Readings and house statuses go to the readings topic keyed ``farm_id/house_number``, so one
controller's events stay in order. Scrape logs and dead letters are keyed by farm. The delivery
callback counts and logs delivery failures, and :meth:`EventPublisher.flush` at the end of a cycle
waits for outstanding deliveries and returns how many were not confirmed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from producers.metrics import ScraperMetrics
from schemas.events import DeadLetter, HouseStatus, Reading, ScrapeLog, readings_key
from schemas.topics import DEAD_LETTER, READINGS, SCRAPE_LOG, topic_name

logger = logging.getLogger(__name__)


def producer_config(bootstrap: str, linger_ms: int) -> dict[str, Any]:
    """Return the producer settings: idempotent, acks from all in-sync replicas, batched."""
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": linger_ms,
        "compression.type": "lz4",
        "client.id": "farmstream-scraper",
    }


class EventPublisher:
    """Publishes events of one process; safe to call from several scraping threads."""

    def __init__(
        self, producer: Producer, *, prefix: str, metrics: ScraperMetrics, flush_timeout: float = 30.0
    ) -> None:
        self.producer = producer
        self.metrics = metrics
        self.flush_timeout = flush_timeout
        self.readings_topic = topic_name(READINGS, prefix)
        self.scrape_log_topic = topic_name(SCRAPE_LOG, prefix)
        self.dead_letter_topic = topic_name(DEAD_LETTER, prefix)
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed = 0

    @classmethod
    def connect(
        cls,
        bootstrap: str,
        *,
        prefix: str,
        metrics: ScraperMetrics,
        linger_ms: int = 50,
        flush_timeout: float = 30.0,
    ) -> EventPublisher:
        """Create a publisher with its own confluent-kafka producer."""
        return cls(
            Producer(producer_config(bootstrap, linger_ms)),
            prefix=prefix,
            metrics=metrics,
            flush_timeout=flush_timeout,
        )

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        with self._lock:
            if error is None:
                self.delivered += 1
                return
            self.failed += 1
        self.metrics.delivery_failures.labels(message.topic()).inc()
        logger.error(
            "event not delivered",
            extra={
                "topic": message.topic(),
                "key": (message.key() or b"").decode(errors="replace"),
                "error": str(error),
            },
        )

    def _produce(self, topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=self._on_delivery)
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self.producer.poll(0.5)
        self.producer.poll(0)

    def reading(self, event: Reading | HouseStatus) -> None:
        """Publish a reading or a house status to the readings topic."""
        self._produce(self.readings_topic, readings_key(event.farm_id, event.house_number), event.to_bytes())
        self.metrics.events_published.labels(event.farm_id, event.kind).inc()

    def scrape_log(self, event: ScrapeLog) -> None:
        """Publish a scrape-log entry keyed by farm."""
        self._produce(self.scrape_log_topic, event.farm_id.encode(), event.to_bytes())
        self.metrics.events_published.labels(event.farm_id, event.kind).inc()

    def dead_letter(self, event: DeadLetter) -> None:
        """Publish a dead letter keyed by farm, or by the stage when no farm is known."""
        key = (event.farm_id or event.stage).encode()
        self._produce(self.dead_letter_topic, key, event.to_bytes())
        farm = event.farm_id or "-"
        self.metrics.events_published.labels(farm, event.kind).inc()
        self.metrics.dead_letters.labels(farm).inc()

    def flush(self) -> int:
        """Wait for outstanding deliveries; return how many are still not confirmed."""
        remaining: int = self.producer.flush(self.flush_timeout)
        if remaining:
            logger.error("deliveries not confirmed before the flush timeout", extra={"pending": remaining})
        return remaining
