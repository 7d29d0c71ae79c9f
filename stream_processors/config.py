"""Settings of the stream-processor agents, read from FARMSTREAM_* variables and .env."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """Broker, topics, timing and checkpointing of the agents worker."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:19092", description="Kafka bootstrap host:port.")
    topic_prefix: str = Field(default="farmstream.", description="Prefix of every topic name.")
    agents_app_id: str = Field(
        default="farmstream-agents", min_length=1, description="Faust app id and consumer group."
    )
    agents_metrics_port: int = Field(default=9102, ge=1024, le=65535, description="Faust web and /metrics.")
    agents_data_dir: Path = Field(default=Path(".stack/agents"), description="Faust's local data folder.")
    scrape_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        allow_inf_nan=False,
        description="Scrape interval that stale and offline checks count in.",
    )
    checkpoint_interval_seconds: float = Field(
        default=30.0, gt=0, description="Most seconds between two checkpoints of one partition's state."
    )
    checkpoint_every_events: int = Field(
        default=20000, ge=1, description="Events of one partition after which a checkpoint is written."
    )
