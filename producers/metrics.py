"""Prometheus metrics of the scraper, all built against one registry (a fresh one per test)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

FAILURE_KINDS = ("transient", "session", "credentials", "payload")
EVENT_KINDS = ("reading", "house_status", "scrape_log", "dead_letter")


class ScraperMetrics:
    """Every metric of the scraper; labels are farm, service method and fixed kinds only."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "farmstream_scraper_requests_total",
            "Portal calls made, including retries and logins.",
            ["farm", "method"],
            registry=registry,
        )
        self.failures = Counter(
            "farmstream_scraper_request_failures_total",
            "Failed portal calls by kind: transient, session, credentials or payload.",
            ["farm", "kind"],
            registry=registry,
        )
        self.retries = Counter(
            "farmstream_scraper_retries_total",
            "Portal calls retried after a transient failure.",
            ["farm"],
            registry=registry,
        )
        self.cycle_duration = Histogram(
            "farmstream_scraper_cycle_duration_seconds",
            "Duration of one scrape cycle over all farms.",
            buckets=(1, 5, 10, 30, 60, 120, 180, 240, 300, 600),
            registry=registry,
        )
        self.farm_duration = Histogram(
            "farmstream_scraper_farm_duration_seconds",
            "Duration of one farm's scrape within a cycle.",
            ["farm"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=registry,
        )
        self.events_published = Counter(
            "farmstream_scraper_events_published_total",
            "Events handed to the Kafka producer, by kind.",
            ["farm", "kind"],
            registry=registry,
        )
        self.delivery_failures = Counter(
            "farmstream_scraper_delivery_failures_total",
            "Events the Kafka producer reported as not delivered.",
            ["topic"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "farmstream_scraper_dead_letters_total", "Dead letters published.", ["farm"], registry=registry
        )
        self.unmapped_keys = Counter(
            "farmstream_scraper_unmapped_keys_total",
            "Portal keys skipped because farmstream publishes no parameter for them.",
            ["farm"],
            registry=registry,
        )
        self.houses_missing = Gauge(
            "farmstream_scraper_houses_missing",
            "Houses that an earlier cycle of this scraper listed and the farm's latest house list lacks.",
            ["farm"],
            registry=registry,
        )
        self.missing_statuses = Counter(
            "farmstream_scraper_missing_statuses_total",
            "House statuses published with connection status missing.",
            ["farm"],
            registry=registry,
        )
        self.last_success = Gauge(
            "farmstream_scraper_last_success_timestamp_seconds",
            "Unix time of the farm's last scrape with outcome success or partial.",
            ["farm"],
            registry=registry,
        )
