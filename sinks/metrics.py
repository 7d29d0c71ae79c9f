"""Prometheus metrics of the sink service, built against a registry so each test can use a fresh one."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server

_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class SinkMetrics:
    """Every metric of the sink. Labels are table, topic, partition and error kind: all bounded sets."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.rows_written = Counter(
            "farmstream_sink_rows_written_total",
            "Rows inserted or updated, by table; rows skipped as duplicates are not counted.",
            ["table"],
            registry=registry,
        )
        self.records_consumed = Counter(
            "farmstream_sink_records_consumed_total",
            "Kafka records read, by topic.",
            ["topic"],
            registry=registry,
        )
        self.batches = Counter(
            "farmstream_sink_batches_total",
            "Batches written and committed.",
            registry=registry,
        )
        self.batch_latency = Histogram(
            "farmstream_sink_batch_seconds",
            "Time from the first write attempt of a batch to its offset commit, retries included.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "farmstream_sink_errors_total",
            "Errors by kind: database_unavailable, row_rejected, decode, kafka, commit, dead_letter_publish.",
            ["kind"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "farmstream_sink_dead_letters_total",
            "Records the sink dead-lettered, by error type.",
            ["error_type"],
            registry=registry,
        )
        self.paused = Gauge(
            "farmstream_sink_paused",
            "1 while consumption is paused because the database is unavailable, else 0.",
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "farmstream_sink_consumer_lag",
            "Messages between the sink's position and the end of each assigned partition.",
            ["topic", "partition"],
            registry=registry,
        )


def start_metrics_server(port: int, registry: CollectorRegistry = REGISTRY, host: str = "127.0.0.1") -> None:
    """Serve the registry on host:port for Prometheus."""
    start_http_server(port, addr=host, registry=registry)
