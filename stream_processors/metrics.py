"""Prometheus metrics of the stream-processor agents, all built against one registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

INPUT_KINDS = ("reading", "house_status", "scrape_log")


class AgentMetrics:
    """Every metric of the agents worker; labels are fixed kinds, rules, topics and partitions."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "farmstream_agents_events_processed_total",
            "Input events processed, by kind.",
            ["kind"],
            registry=registry,
        )
        self.skipped = Counter(
            "farmstream_agents_events_skipped_total",
            "Input events skipped because a restored checkpoint already covers their offset.",
            registry=registry,
        )
        self.batch_latency = Histogram(
            "farmstream_agents_batch_processing_seconds",
            "Time to process one batch of input events (up to 1,000 of one partition), parsing included.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=registry,
        )
        self.alerts = Counter(
            "farmstream_agents_alerts_total",
            "Alert transitions published, by rule, severity and state.",
            ["rule", "severity", "state"],
            registry=registry,
        )
        self.predictions = Counter(
            "farmstream_agents_predictions_total",
            "Failure predictions and recommendations published, by kind.",
            ["kind"],
            registry=registry,
        )
        self.suppressed = Counter(
            "farmstream_agents_outputs_suppressed_total",
            "Outputs not republished after a restore because the output topic already holds them.",
            registry=registry,
        )
        self.dead_letters = Counter(
            "farmstream_agents_dead_letters_total",
            "Input messages sent to the dead-letter topic, by error type.",
            ["error_type"],
            registry=registry,
        )
        self.warming = Gauge(
            "farmstream_agents_detectors_warming",
            "Sensor detectors still in their warm-up, over the partitions of this worker.",
            registry=registry,
        )
        self.sensors = Gauge(
            "farmstream_agents_sensors",
            "Sensors with detector state on this worker.",
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "farmstream_agents_consumer_lag",
            "Messages between the last processed offset and the end of each input partition.",
            ["topic", "partition"],
            registry=registry,
        )
        self.checkpoints = Counter(
            "farmstream_agents_checkpoints_total",
            "Partition checkpoints written.",
            registry=registry,
        )
        self.checkpoint_seconds = Histogram(
            "farmstream_agents_checkpoint_seconds",
            "Time to write one partition checkpoint: flush, encode, store and commit.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )
        self.checkpoint_bytes = Gauge(
            "farmstream_agents_checkpoint_bytes",
            "Size of the last checkpoint written, per input partition.",
            ["partition"],
            registry=registry,
        )
        self.restores = Counter(
            "farmstream_agents_restores_total",
            "Partition restores by outcome: restored, empty (no checkpoint) or rejected.",
            ["outcome"],
            registry=registry,
        )
