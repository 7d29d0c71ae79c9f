"""Settings of the scraper service, read from FARMSTREAM_* variables and .env at start-up."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from producers.farms import FarmAccount, LoginStyle, check_login_style, check_timezone, load_farms_file
from schemas.topics import DEFAULT_PREFIX


class ScraperSettings(BaseSettings):
    """Accounts, schedule, timeouts, retries and Kafka settings of ``farmstream scrape``.

    Accounts come from ``FARMSTREAM_FARMS_FILE``, or, for one farm, from ``FARMSTREAM_PORTAL_URL``,
    ``FARMSTREAM_PORTAL_USERNAME``, ``FARMSTREAM_PORTAL_PASSWORD`` and ``FARMSTREAM_FARM_ID``, with the
    optional ``FARMSTREAM_FARM_TIMEZONE`` and ``FARMSTREAM_FARM_LOGIN_STYLE`` (``classic`` or ``api``).
    """

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    farms_file: Path | None = Field(default=None, description="JSON file listing the farms' portal accounts.")
    portal_url: str | None = Field(default=None, description="Portal base URL of the single account.")
    portal_username: str | None = None
    portal_password: SecretStr | None = None
    farm_id: str | None = None
    farm_timezone: str = Field(default="UTC", description="IANA time zone of the single account's farm.")
    farm_login_style: LoginStyle = Field(
        default="classic",
        description="Login and path style of the single account: classic (Latest/Services paths) or api.",
    )

    listed_houses_file: Path | None = Field(
        default=None,
        description="JSON file of the houses each farm listed, so a restart still reports a vanished house.",
    )
    scrape_interval_seconds: float = Field(
        default=300.0, gt=0, le=86400, allow_inf_nan=False, description="Seconds between cycle starts."
    )
    history_fetch_time: time = Field(
        default=time(0, 30), description="Local farm time after which the daily history is fetched, HH:MM."
    )
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    read_timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries of a transient failure per call.")
    backoff_base_seconds: float = Field(
        default=1.0, ge=0, description="First retry delay; doubles each retry."
    )
    backoff_max_seconds: float = Field(default=30.0, ge=0, description="Upper bound of one retry delay.")
    max_concurrent_farms: int = Field(default=8, ge=1, le=256, description="Farms scraped at the same time.")

    kafka_bootstrap: str = "127.0.0.1:19092"
    topic_prefix: str = DEFAULT_PREFIX
    producer_linger_ms: int = Field(default=50, ge=0, le=5000, description="Kafka producer batching delay.")
    flush_timeout_seconds: float = Field(default=30.0, gt=0, description="Wait for deliveries at cycle end.")
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address the metrics server binds; 0.0.0.0 in a container so Prometheus can reach it.",
    )
    scraper_metrics_port: int = Field(
        default=9101, ge=0, le=65535, description="Prometheus port; 0 disables."
    )

    @field_validator("listed_houses_file", mode="before")
    @classmethod
    def _no_empty_file(cls, value: object) -> object:
        # An empty variable means no file, as in a .env line that turns the setting off.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("listed_houses_file")
    @classmethod
    def _check_listed_houses_file(cls, value: Path | None) -> Path | None:
        if value is not None and (not value.name or value.is_dir()):
            raise ValueError(f"{value} is a folder; name a file in it, for example listed-houses.json")
        return value

    _check_timezone = field_validator("farm_timezone")(check_timezone)
    _check_login_style = field_validator("farm_login_style", mode="before")(check_login_style)

    @model_validator(mode="after")
    def _check_accounts(self) -> ScraperSettings:
        single = (self.portal_url, self.portal_username, self.portal_password, self.farm_id)
        if self.farms_file is None and not all(value is not None for value in single):
            missing = [
                name
                for name, value in zip(
                    ("PORTAL_URL", "PORTAL_USERNAME", "PORTAL_PASSWORD", "FARM_ID"), single, strict=True
                )
                if value is None
            ]
            raise ValueError(
                "no farms configured: set FARMSTREAM_FARMS_FILE, or set "
                + ", ".join(f"FARMSTREAM_{name}" for name in missing)
            )
        return self

    def accounts(self) -> list[FarmAccount]:
        """Return the accounts to scrape, reading the farms file again on every call."""
        if self.farms_file is not None:
            return load_farms_file(self.farms_file)
        assert self.portal_url is not None
        assert self.portal_username is not None
        assert self.portal_password is not None
        assert self.farm_id is not None
        return [
            FarmAccount(
                farm_id=self.farm_id,
                portal_url=self.portal_url,
                username=self.portal_username,
                password=self.portal_password,
                timezone=self.farm_timezone,
                login_style=self.farm_login_style,
            )
        ]
