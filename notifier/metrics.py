"""Prometheus metrics of the notifier, built against a registry so each test can use a fresh one."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server

# Delivery latency runs from the first attempt to acceptance, so retries land in the upper buckets.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class NotifierMetrics:
    """Every metric of the notifier. Channel labels come from the configuration file, so they are bounded."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.alerts_consumed = Counter(
            "farmstream_notifier_alerts_consumed_total",
            "Alert events read from the alerts topic and routed.",
            registry=registry,
        )
        self.deliveries = Counter(
            "farmstream_notifier_deliveries_total",
            "Deliveries that reached a final status, by channel and status (delivered or failed).",
            ["channel", "status"],
            registry=registry,
        )
        self.retries = Counter(
            "farmstream_notifier_delivery_retries_total",
            "Failed delivery attempts for which another attempt was scheduled, by channel.",
            ["channel"],
            registry=registry,
        )
        self.duplicates_skipped = Counter(
            "farmstream_notifier_duplicates_skipped_total",
            "Alert states not sent again because the delivery log already had them, by channel.",
            ["channel"],
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "farmstream_notifier_delivery_latency_seconds",
            "Time from the first attempt of a delivery to its acceptance by the channel, by channel.",
            ["channel"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.dead_letters = Counter(
            "farmstream_notifier_dead_letters_total",
            "Messages of the alerts topic sent to the dead-letter topic, by error type.",
            ["error_type"],
            registry=registry,
        )
        self.processing_errors = Counter(
            "farmstream_notifier_processing_errors_total",
            "Failures to record a delivery outcome (the message is processed again), by error type.",
            ["error_type"],
            registry=registry,
        )


def start_metrics_server(port: int, registry: CollectorRegistry = REGISTRY, host: str = "127.0.0.1") -> None:
    """Serve the registry on host:port for Prometheus."""
    start_http_server(port, addr=host, registry=registry)
