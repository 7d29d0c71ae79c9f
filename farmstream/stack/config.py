"""Settings of topic administration, read from FARMSTREAM_* variables and .env."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import DEFAULT_PREFIX


class TopicSettings(BaseSettings):
    """Broker address, topic prefix and replication factor used by topic administration."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", min_length=1, description="Kafka bootstrap servers, host:port[,host:port]."
    )
    topic_prefix: str = Field(
        default=DEFAULT_PREFIX,
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prefix of every topic name; letters, digits, '.', '_' and '-' only.",
    )
    topic_replication_factor: int = Field(
        default=1, ge=1, le=5, description="Replicas per partition when a topic is created."
    )
