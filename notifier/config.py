"""Settings of the notifier service and its routing configuration file.

Service settings come from FARMSTREAM_* variables (and .env). Routing rules, channels and the retry
budget come from a TOML or JSON file named by FARMSTREAM_NOTIFIER_CONFIG or ``--config``::

    [channels.ops-webhook]
    type = "webhook"
    url = "https://hooks.example.org/farmstream"
    secret_env = "FARMSTREAM_WEBHOOK_SECRET"   # optional: HMAC-SHA256 signature of each body

    [channels.grower-email]
    type = "email"
    host = "smtp.example.org"
    port = 587
    security = "starttls"                      # none, starttls or ssl
    # ca_file = "/etc/farmstream/smtp-ca.pem"  # optional: CA that signed the server certificate
    username = "alerts@example.org"
    password_env = "FARMSTREAM_SMTP_PASSWORD"
    from = "farmstream <alerts@example.org>"
    to = ["grower@example.org"]

    [[rules]]
    name = "critical-to-grower"
    farms = "*"                                # or a list of farm ids
    min_severity = "warning"                   # info, warning or critical
    alert_rules = "*"                          # or a list of alert rule names
    states = ["open", "reminder", "resolved"]
    channels = ["ops-webhook", "grower-email"]

    [retry]
    max_attempts = 8
    initial_delay_seconds = 5
    max_delay_seconds = 600
    max_total_seconds = 3600

Secrets never appear in the file: a channel names the environment variable that contains them.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifier.exceptions import NotifierConfigError
from schemas.events import ALERT_RULES, AlertState, Severity
from schemas.topics import DEFAULT_PREFIX


class NotifierSettings(BaseSettings):
    """Connection settings of the notifier service."""

    model_config = SettingsConfigDict(env_prefix="FARMSTREAM_", env_file=".env", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:19092", min_length=1)
    topic_prefix: str = DEFAULT_PREFIX
    database_url: str = Field(
        default="postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream", min_length=1
    )
    notifier_config: Path | None = Field(
        default=None, description="Routing configuration file, TOML or JSON."
    )
    notifier_group_id: str = Field(
        default="farmstream-notifier", min_length=1, description="Kafka consumer group of the notifier."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address the metrics server binds; 0.0.0.0 in a container so Prometheus can reach it.",
    )
    notifier_metrics_port: int = Field(
        default=9104, ge=0, le=65535, description="Prometheus port on metrics_host; 0 turns it off."
    )
    notifier_retry_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the retry queue looks for due deliveries."
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WebhookChannelConfig(_Strict):
    """A webhook channel: an HTTP(S) endpoint that receives a JSON POST per alert state."""

    type: Literal["webhook"]
    url: str = Field(min_length=1)
    secret_env: str | None = Field(
        default=None, min_length=1, description="Variable holding the HMAC-SHA256 signing secret."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class EmailChannelConfig(_Strict):
    """An e-mail channel: an SMTP server and the addresses one message goes to."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    ca_file: Path | None = Field(
        default=None, description="PEM file of CA certificates that sign the server's certificate."
    )
    username: str | None = Field(default=None, min_length=1)
    password_env: str | None = Field(
        default=None, min_length=1, description="Variable holding the SMTP password."
    )
    from_address: str = Field(alias="from", min_length=3)
    to: list[str] = Field(min_length=1)
    subject_prefix: str = "[farmstream]"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


ChannelConfig = Annotated[WebhookChannelConfig | EmailChannelConfig, Field(discriminator="type")]


def _all_states() -> list[AlertState]:
    return ["open", "reminder", "resolved"]


class RoutingRule(_Strict):
    """A routing rule: a filter on alert states and the channels they go to.

    An alert state goes to the union of the channels of all matching rules.
    """

    name: str = Field(min_length=1)
    farms: Literal["*"] | list[str] = "*"
    min_severity: Severity = "info"
    alert_rules: Literal["*"] | list[str] = "*"
    states: list[AlertState] = Field(default_factory=_all_states, min_length=1)
    channels: list[str] = Field(min_length=1)


class RetryConfig(_Strict):
    """Retry budget of one delivery: exponential backoff with jitter, bounded in attempts and time."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    initial_delay_seconds: float = Field(default=5.0, gt=0)
    max_delay_seconds: float = Field(default=600.0, gt=0)
    max_total_seconds: float = Field(
        default=3600.0, gt=0, description="No retry is scheduled later than this after the first attempt."
    )
    multiplier: float = Field(default=2.0, ge=1)
    jitter: float = Field(default=0.5, ge=0, le=1, description="Fraction of each delay drawn at random.")
    lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long an attempt in progress is owned by one worker before a crash is assumed.",
    )


class RoutingConfig(_Strict):
    """The whole configuration file."""

    channels: dict[str, ChannelConfig] = Field(min_length=1)
    rules: list[RoutingRule] = Field(min_length=1)
    retry: RetryConfig = Field(default_factory=RetryConfig)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration with the secrets its channels name, read from the environment."""

    path: Path
    routing: RoutingConfig
    secrets: Mapping[str, SecretStr]
    """Secret of each channel that has one, by channel name."""


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, validate and resolve a configuration file, raising NotifierConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    data = _read_file(path)
    try:
        routing = RoutingConfig.model_validate(data)
    except ValidationError as error:
        raise NotifierConfigError(str(path), _describe_errors(error)) from None

    problems = _check_references(routing)
    secrets, secret_problems = _resolve_secrets(routing, environ)
    problems.extend(secret_problems)
    if problems:
        raise NotifierConfigError(str(path), problems)
    return LoadedConfig(path=path, routing=routing, secrets=secrets)


def _read_file(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in {".toml", ".json"}:
        raise NotifierConfigError(str(path), [f"unsupported file type {suffix!r}: use a .toml or .json file"])
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NotifierConfigError(str(path), [f"cannot read the file: {error.strerror}"]) from None
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise NotifierConfigError(str(path), [f"invalid {suffix[1:].upper()}: {error}"]) from None


def _describe_errors(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = list(item["loc"])
        # A channel's errors carry its type tag after the channel name; the file has no such level.
        if len(location) > 2 and location[0] == "channels" and location[2] in {"webhook", "email"}:
            del location[2]
        path = ""
        for part in location:
            if isinstance(part, int):
                path += f"[{part}]"
            elif path:
                path += f".{part}"
            else:
                path = str(part)
        line = f"{path or 'file'}: {item['msg']}"
        # Unknown keys are not echoed: an operator may have pasted a secret where it does not belong.
        if item["type"] not in {"extra_forbidden", "missing"}:
            line += f" (got {item.get('input')!r})"
        problems.append(line)
    return problems


def _check_references(routing: RoutingConfig) -> list[str]:
    problems = []
    seen_rules: set[str] = set()
    for index, rule in enumerate(routing.rules):
        if rule.name in seen_rules:
            problems.append(
                f"rules[{index}].name: duplicate rule name {rule.name!r}: give each rule its own name"
            )
        seen_rules.add(rule.name)
        unknown = sorted(set(rule.alert_rules) - ALERT_RULES) if rule.alert_rules != "*" else []
        if unknown:
            problems.append(
                f"rules[{index}].alert_rules: unknown alert rule {', '.join(map(repr, unknown))}: use "
                f"one of: {', '.join(sorted(ALERT_RULES))}"
            )
        for channel in rule.channels:
            if channel not in routing.channels:
                defined = ", ".join(sorted(routing.channels))
                problems.append(
                    f"rules[{index}].channels: unknown channel {channel!r}: define [channels.{channel}]"
                    f" or use one of: {defined}"
                )

    for name, settings in routing.channels.items():
        if isinstance(settings, WebhookChannelConfig):
            parts = urlsplit(settings.url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                problems.append(
                    f"channels.{name}.url: invalid webhook URL: use http://host/path or https://host/path"
                )
        else:
            for field, address in [("from", settings.from_address), *(("to", item) for item in settings.to)]:
                if "@" not in parseaddr(address)[1]:
                    problems.append(f"channels.{name}.{field}: invalid e-mail address {address!r}")
            if (settings.username is None) != (settings.password_env is None):
                problems.append(
                    f"channels.{name}: username and password_env go together: set both to log in, or neither"
                )
            if settings.ca_file is not None and settings.security == "none":
                problems.append(
                    f"channels.{name}.ca_file: set security to starttls or ssl, or remove ca_file"
                )
            if settings.ca_file is not None and not settings.ca_file.is_file():
                problems.append(f"channels.{name}.ca_file: file {str(settings.ca_file)!r} not found")

    retry = routing.retry
    if retry.max_delay_seconds < retry.initial_delay_seconds:
        problems.append(
            f"retry.max_delay_seconds: {retry.max_delay_seconds} is below initial_delay_seconds"
            f" {retry.initial_delay_seconds}: raise it"
        )
    longest_timeout = max(channel.timeout_seconds for channel in routing.channels.values())
    if retry.lease_seconds <= longest_timeout:
        problems.append(
            f"retry.lease_seconds: {retry.lease_seconds} must exceed the longest channel timeout"
            f" {longest_timeout}, or a slow attempt would be taken over and sent twice"
        )
    return problems


def _resolve_secrets(
    routing: RoutingConfig, environ: Mapping[str, str]
) -> tuple[dict[str, SecretStr], list[str]]:
    secrets: dict[str, SecretStr] = {}
    problems = []
    for name, channel in routing.channels.items():
        if isinstance(channel, WebhookChannelConfig):
            field, variable = "secret_env", channel.secret_env
        else:
            field, variable = "password_env", channel.password_env
        if variable is None:
            continue
        value = environ.get(variable, "")
        if not value:
            problems.append(
                f"channels.{name}.{field}: environment variable {variable} is not set or empty:"
                f" export it, or remove {field}"
            )
            continue
        secrets[name] = SecretStr(value)
    return secrets, problems
