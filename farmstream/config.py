"""Settings of the local stack (Kafka broker and PostgreSQL), read from FARMSTREAM_* variables and .env."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class StackSettings(BaseSettings):
    """Ports, folders and sizes of the local stack."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    kafka_port: int = Field(
        default=19092, ge=1024, le=65535, description="Broker PLAINTEXT port on 127.0.0.1."
    )
    kafka_controller_port: int = Field(default=19093, ge=1024, le=65535, description="KRaft controller port.")
    kafka_heap_mb: int = Field(
        default=512, ge=128, le=8192, description="Fixed JVM heap of the broker, in MiB."
    )
    postgres_port: int = Field(default=15432, ge=1024, le=65535, description="PostgreSQL port on 127.0.0.1.")
    stack_dir: Path = Field(default=REPOSITORY_ROOT / ".stack", description="Data, logs and process ids.")
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "farmstream", description="Downloaded broker jars."
    )
