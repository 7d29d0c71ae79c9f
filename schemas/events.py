"""Event models exchanged between farmstream stages over Kafka.

Every event is a JSON object with a ``schema_version`` and a ``kind``. Events on one topic share
a ``kind`` discriminator so a consumer can parse any message of the topic with one adapter
(``ReadingsTopicEvent``, ``PredictionsTopicEvent``). Identifiers are deterministic, derived from
the event's natural key, so a replayed or redelivered event has the same id and the sinks can
write it idempotently.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION: Literal[1] = 1

# Namespace for the UUIDv5 event ids, fixed forever so ids stay stable across releases.
_ID_NAMESPACE = uuid.UUID("6f1c2e0a-4b7d-5c3e-9a8f-2d1b0c9e8f7a")

Unit = Literal["degC", "Pa", "kg", "L", "m3/h", "%", "ppm", "count", "s", "m/s", "deg", "ratio", "state"]
"""Canonical units. The scraper converts every portal unit to one of these.

``count`` is a dimensionless number of things (birds, devices running, vent level), ``s`` a
duration in seconds (heater runtime), ``ratio`` a dimensionless quotient (water-to-feed ratio) and
``state`` a coded state (house mode, ventilation mode) whose meaning the parameter name defines.
"""

Quality = Literal["good", "out_of_range"]
"""Reading quality. ``out_of_range`` marks a value the portal reported but that lies outside the
physical range of its parameter (a shorted probe pinned at a rail, for example)."""

Period = Literal["instant", "day"]
"""``instant`` for a live value, ``day`` for a daily summary row of a history command."""

ConnectionStatus = Literal["connected", "offline", "disconnected", "unknown", "missing"]
"""A house's connection as the portal reports it (eConnectionStatus codes 0 to 3). ``missing`` is
farmstream's own: an earlier cycle of the running scraper listed the house and the latest portal
house list lacks it."""

Severity = Literal["info", "warning", "critical"]
AlertState = Literal["open", "reminder", "resolved"]
Stage = Literal["producer", "stream_processor", "sink", "notifier", "api"]


def deterministic_id(*parts: object) -> str:
    """Return a UUIDv5 string derived from the parts, the same on every call and every host.

    Datetimes are taken in UTC, so one instant written with different offsets gives one id.
    """
    text = "\x1f".join(_id_part(part) for part in parts)
    return str(uuid.uuid5(_ID_NAMESPACE, text))


def _id_part(part: object) -> str:
    if isinstance(part, datetime):
        return part.astimezone(UTC).isoformat() if part.tzinfo is not None else part.isoformat()
    return str(part)


def controller_id_for(farm_id: str, house_number: int) -> str:
    """Return farmstream's id of the climate controller of one house of a farm."""
    return f"{farm_id}/house-{house_number}"


def readings_key(farm_id: str, house_number: int | None) -> bytes:
    """Return the Kafka message key that keeps one controller's events in order on one partition."""
    house = "-" if house_number is None else str(house_number)
    return f"{farm_id}/{house}".encode()


def payload_digest(payload: bytes) -> str:
    """Return a short SHA-256 hex digest used to give dead-letter records a stable id."""
    return hashlib.sha256(payload).hexdigest()[:32]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION

    def to_bytes(self) -> bytes:
        """Serialize to the UTF-8 JSON form published on Kafka."""
        return self.model_dump_json().encode()


class Reading(_Event):
    """One value of one parameter of one house, as read from the portal and converted to canonical units."""

    kind: Literal["reading"] = "reading"
    event_id: str = Field(description="UUIDv5 of controller_id, parameter, period and observed_at.")
    farm_id: str = Field(min_length=1, description="farmstream's id of the portal account (farm).")
    house_number: int = Field(ge=1, description="House number as the portal numbers it, from 1.")
    controller_id: str = Field(description="farmstream's id of the house's climate controller.")
    parameter: str = Field(
        min_length=1, description="farmstream's parameter name, for example temperature.average."
    )
    source_key: str = Field(description="The portal's own key, for example General.Average_Temperature.")
    source_command: str = Field(
        description="Portal call the value came from, for example RNBL_GetCommandData/0."
    )
    value: float = Field(allow_inf_nan=False, description="The value in the canonical unit, finite.")
    unit: Unit
    quality: Quality = "good"
    target: float | None = Field(
        default=None, allow_inf_nan=False, description="The controller's target for this value, same unit."
    )
    period: Period = "instant"
    growth_day: int | None = Field(default=None, ge=-7, le=120)
    controller_time: str | None = Field(
        default=None, description="The controller's own clock, HH:MM, as sent."
    )
    observed_at: AwareDatetime = Field(
        description="When the value was measured (start of day for daily rows)."
    )
    fetched_at: AwareDatetime = Field(description="When farmstream fetched it from the portal.")

    @staticmethod
    def make_id(controller_id: str, parameter: str, period: Period, observed_at: datetime) -> str:
        """Return the deterministic event id of a reading."""
        return deterministic_id("reading", controller_id, parameter, period, observed_at)


class HouseStatus(_Event):
    """The state of one house's controller in one scrape cycle, published whether or not it is connected.

    ``sentinel_keys`` lists the portal keys that carried a not-installed or no-value sentinel in this
    cycle. The stream processors compare it with earlier cycles to tell a failed sensor from one
    that was never installed.
    """

    kind: Literal["house_status"] = "house_status"
    event_id: str
    farm_id: str = Field(min_length=1)
    house_number: int = Field(ge=1)
    controller_id: str
    connection_status: ConnectionStatus
    growth_day: int | None = None
    controller_time: str | None = None
    house_mode: int | None = None
    siren_on: bool | None = None
    alarm_codes: list[str] = Field(
        default_factory=list, description="Active controller alarms as the portal names them."
    )
    readings_published: int = Field(ge=0)
    sentinel_keys: list[str] = Field(default_factory=list)
    observed_at: AwareDatetime
    fetched_at: AwareDatetime

    @staticmethod
    def make_id(controller_id: str, observed_at: datetime) -> str:
        """Return the deterministic event id of a house status."""
        return deterministic_id("house_status", controller_id, observed_at)


class ScrapeLog(_Event):
    """The outcome of one scrape cycle of one farm's portal account."""

    kind: Literal["scrape_log"] = "scrape_log"
    event_id: str
    farm_id: str = Field(min_length=1)
    cycle_id: str = Field(description="Id of the scrape cycle, shared by all farms scraped in it.")
    outcome: Literal["success", "partial", "failed", "auth_failed"]
    started_at: AwareDatetime
    finished_at: AwareDatetime
    duration_seconds: float = Field(ge=0)
    houses_total: int = Field(ge=0)
    houses_connected: int = Field(ge=0)
    readings_published: int = Field(ge=0)
    dead_letters: int = Field(ge=0)
    requests: int = Field(ge=0)
    retries: int = Field(ge=0)
    error_kind: str | None = Field(default=None, description="transient, session, credentials or payload.")
    error_message: str | None = None

    @staticmethod
    def make_id(farm_id: str, cycle_id: str) -> str:
        """Return the deterministic event id of a scrape-log entry."""
        return deterministic_id("scrape_log", farm_id, cycle_id)


class DeadLetter(_Event):
    """An input that a stage could not process, kept with its raw bytes and the reason."""

    kind: Literal["dead_letter"] = "dead_letter"
    event_id: str
    stage: Stage
    reason: str = Field(min_length=1, description="Human-readable reason, naming the offending value.")
    error_type: str = Field(description="Machine-readable class of the error, for example SentinelValue.")
    farm_id: str | None = None
    house_number: int | None = None
    command: str | None = Field(default=None, description="Portal call, for a producer dead letter.")
    source_key: str | None = None
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    raw_encoding: Literal["utf-8", "base64"] = "utf-8"
    raw_payload: str = Field(description="The raw input, as text or base64 per raw_encoding.")
    created_at: AwareDatetime


ALERT_RULES: frozenset[str] = frozenset(
    {
        "anomaly",
        "temperature_off_target",
        "static_pressure_out_of_band",
        "co2_over_limit",
        "ammonia_over_limit",
        "water_to_feed_ratio",
        "water_at_night",
        "sensor_out_of_range",
        "sensor_failed",
        "controller_offline",
        "controller_alarm",
        "controller_stale",
        "scraper_failed",
    }
)
"""Every rule an :class:`Alert` may name, so alert consumers can check their routing against it."""


class Alert(_Event):
    """One transition of an alert: opened, reminded while open, or resolved.

    ``alert_id`` names one alert episode and stays the same across its transitions. ``sequence``
    counts them from 0, so (``alert_id``, ``sequence``) is unique and a redelivered transition is
    recognisable downstream.
    """

    kind: Literal["alert"] = "alert"
    event_id: str
    alert_id: str
    sequence: int = Field(ge=0)
    state: AlertState
    severity: Severity
    rule: str = Field(min_length=1, description="Rule that raised it, for example temperature_off_target.")
    farm_id: str = Field(min_length=1)
    house_number: int | None = Field(
        default=None, description="None for a farm-wide alert such as a scraper failure."
    )
    subject: str = Field(
        description="Sensor, device or component concerned, for example temperature.average."
    )
    title: str
    message: str
    value: float | None = None
    expected: float | None = None
    opened_at: AwareDatetime
    event_time: AwareDatetime = Field(description="Time of this transition in the data's own clock.")
    resolved_at: AwareDatetime | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)

    @staticmethod
    def make_alert_id(
        farm_id: str, house_number: int | None, subject: str, rule: str, opened_at: datetime
    ) -> str:
        """Return the deterministic id of an alert episode."""
        return deterministic_id("alert", farm_id, house_number, subject, rule, opened_at)

    @staticmethod
    def make_event_id(alert_id: str, sequence: int) -> str:
        """Return the deterministic id of one transition of an alert."""
        return deterministic_id("alert_event", alert_id, sequence)


class FailurePrediction(_Event):
    """A warning that a controller's error rate points to an equipment or sensor failure."""

    kind: Literal["failure_prediction"] = "failure_prediction"
    event_id: str
    farm_id: str = Field(min_length=1)
    house_number: int = Field(ge=1)
    controller_id: str
    score: float = Field(ge=0, le=1, description="Rolling error rate over the window.")
    threshold: float = Field(ge=0, le=1)
    confidence: float = Field(ge=0, le=1)
    window_start: AwareDatetime
    window_end: AwareDatetime
    predicted_at: AwareDatetime
    evidence: dict[str, Any] = Field(
        default_factory=dict, description="Counts of each kind of error in the window."
    )


class Recommendation(_Event):
    """An environmental recommendation for a grower, for example to raise minimum ventilation."""

    kind: Literal["recommendation"] = "recommendation"
    event_id: str
    farm_id: str = Field(min_length=1)
    house_number: int = Field(ge=1)
    action: str = Field(
        min_length=1, description="Machine-readable action, for example raise_minimum_ventilation."
    )
    reason: str
    created_at: AwareDatetime
    evidence: dict[str, Any] = Field(default_factory=dict)


ReadingsTopicEvent = Annotated[Reading | HouseStatus, Field(discriminator="kind")]
PredictionsTopicEvent = Annotated[FailurePrediction | Recommendation, Field(discriminator="kind")]

readings_topic_adapter: TypeAdapter[Reading | HouseStatus] = TypeAdapter(ReadingsTopicEvent)
predictions_topic_adapter: TypeAdapter[FailurePrediction | Recommendation] = TypeAdapter(
    PredictionsTopicEvent
)

ALL_MODELS: tuple[type[BaseModel], ...] = (
    Reading,
    HouseStatus,
    ScrapeLog,
    DeadLetter,
    Alert,
    FailurePrediction,
    Recommendation,
)
