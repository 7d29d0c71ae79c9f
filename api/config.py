"""Settings of the REST API, read from FARMSTREAM_* variables and .env and validated at start-up."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Database, Kafka, listening address, pool and paging limits of the API."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream",
        description="libpq connection string of the farmstream database.",
    )
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", description="Kafka bootstrap servers, checked by /readyz."
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    api_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Maximum database connections of the API; 1 for a server that serves one at a time.",
    )
    api_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, le=120, description="How long a request waits for a free database connection."
    )
    api_statement_timeout_ms: int = Field(
        default=15_000,
        ge=0,
        le=600_000,
        description="PostgreSQL statement_timeout of API queries; 0 is none.",
    )
    api_prepare_statements: bool = Field(
        default=True,
        description="Use server-side prepared statements; false for a server whose connections share one "
        "session, such as the PGlite TimescaleDB test server.",
    )
    api_readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Timeout of each dependency check of /readyz."
    )
    api_page_size_default: int = Field(default=500, ge=1, description="Rows per page when limit is absent.")
    api_page_size_max: int = Field(default=5000, ge=1, description="Largest limit a client may request.")
    api_max_range_raw_hours: int = Field(
        default=7 * 24, ge=1, description="Maximum time range of a raw readings query, in hours."
    )
    api_max_range_5m_hours: int = Field(
        default=31 * 24, ge=1, description="Maximum time range of a 5-minute bucket query, in hours."
    )
    api_max_range_1h_hours: int = Field(
        default=366 * 24, ge=1, description="Maximum time range of a 1-hour bucket query, in hours."
    )
    api_max_range_1d_hours: int = Field(
        default=10 * 366 * 24, ge=1, description="Maximum time range of a 1-day bucket query, in hours."
    )
    api_latest_window_minutes: int = Field(
        default=60,
        ge=5,
        le=7 * 24 * 60,
        description="Latest readings look this far back from the house's newest reading, in minutes.",
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long each API process reuses a verified API key without looking it up again, in "
        "seconds, so a revoked key stops working within this time; 0 looks every key up on every request.",
    )
    api_migrate_on_start: bool = Field(
        default=True, description="Apply pending database migrations when `farmstream api` starts."
    )

    @model_validator(mode="after")
    def _check_page_sizes(self) -> ApiSettings:
        if self.api_page_size_default > self.api_page_size_max:
            raise ValueError(
                f"api_page_size_default ({self.api_page_size_default}) is larger than "
                f"api_page_size_max ({self.api_page_size_max}); lower the default or raise the maximum"
            )
        return self

    def max_range(self, bucket: str) -> timedelta:
        """Return the longest time range a readings query may span at a bucket width."""
        hours = {
            "raw": self.api_max_range_raw_hours,
            "5m": self.api_max_range_5m_hours,
            "1h": self.api_max_range_1h_hours,
            "1d": self.api_max_range_1d_hours,
        }[bucket]
        return timedelta(hours=hours)
