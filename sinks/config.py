"""Settings of the sink service, read from FARMSTREAM_* variables and .env at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import DEFAULT_PREFIX

WriteMode = Literal["auto", "copy", "insert"]


class SinkSettings(BaseSettings):
    """Kafka, database, batching and retry settings of ``farmstream sink``."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:19092", min_length=1)
    topic_prefix: str = DEFAULT_PREFIX
    database_url: str = Field(
        default="postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream", min_length=1
    )
    sink_group_id: str = Field(default="farmstream-sink", min_length=1, description="Kafka consumer group.")
    sink_session_timeout_ms: int = Field(
        default=45_000,
        ge=1000,
        le=300_000,
        description="Kafka group session timeout; a crashed sink's partitions move after this long.",
    )
    sink_batch_size: int = Field(
        default=10_000, ge=1, le=100_000, description="Maximum records written in one transaction."
    )
    sink_batch_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Maximum time spent collecting one batch, in seconds."
    )
    sink_write_mode: WriteMode = Field(
        default="auto",
        description="How readings are written: copy (COPY into a staging table), insert (executemany),"
        " or auto (insert when the server is PGlite, which cannot COPY over its socket, else copy).",
    )
    sink_retry_initial_seconds: float = Field(
        default=0.5, gt=0, le=60, description="First wait after the database failed, in seconds."
    )
    sink_retry_max_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Longest wait between database retries, in seconds."
    )
    sink_statement_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="Database statement timeout; a slower batch is retried."
    )
    sink_retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the readings sink drops readings past retention."
    )
    retain_days: int = Field(
        default=365, ge=1, le=36500, description="Drop raw readings older than this many days."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address the metrics server binds; 0.0.0.0 in a container so Prometheus can reach it.",
    )
    sink_metrics_port: int = Field(default=9103, ge=0, le=65535, description="0 disables the metrics server.")
