"""Response and request models of the API.

Each resource has a public model and a list envelope ``{data, count}``; envelopes of
time-ordered resources add ``next_cursor``, which is null on the last page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.validation import NoControl, NoControlExceptLayout

Bucket = Literal["raw", "5m", "1h", "1d"]
AlertStateFilter = Literal["open", "resolved"]
SeverityFilter = Literal["info", "warning", "critical"]
ScrapeOutcome = Literal["success", "partial", "failed", "auth_failed"]


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class FarmPublic(_Public):
    farm_id: str
    name: str | None
    created_at: datetime | None
    updated_at: datetime | None


class FarmsPublic(_Public):
    data: list[FarmPublic]
    count: int


class HousePublic(_Public):
    farm_id: str
    house_number: int
    name: str | None


class HousesPublic(_Public):
    data: list[HousePublic]
    count: int


class ControllerPublic(_Public):
    controller_id: str
    farm_id: str
    house_number: int
    connection_status: str | None
    growth_day: int | None
    controller_time: str | None = Field(description="The controller's own clock, HH:MM, as last reported.")
    last_status_at: datetime | None
    last_reading_at: datetime | None


class ControllersPublic(_Public):
    data: list[ControllerPublic]
    count: int


class LatestReadingPublic(_Public):
    parameter: str
    controller_id: str
    observed_at: datetime
    value: float
    unit: str
    quality: str
    target: float | None
    growth_day: int | None


class LatestReadingsPublic(_Public):
    farm_id: str
    house_number: int
    data: list[LatestReadingPublic]
    count: int


class RawReadingPublic(_Public):
    observed_at: datetime
    farm_id: str
    house_number: int
    controller_id: str
    parameter: str
    period: str
    value: float
    unit: str
    quality: str
    target: float | None
    growth_day: int | None


class BucketReadingPublic(_Public):
    bucket: datetime = Field(description="Start of the bucket.")
    farm_id: str
    house_number: int
    controller_id: str
    parameter: str
    unit: str
    value_avg: float
    value_min: float
    value_max: float
    value_count: int
    target_avg: float | None


class RawReadingsPage(_Public):
    bucket: Literal["raw"]
    data: list[RawReadingPublic]
    count: int
    next_cursor: str | None


class BucketReadingsPage(_Public):
    bucket: Literal["5m", "1h", "1d"]
    data: list[BucketReadingPublic]
    count: int
    next_cursor: str | None


class AlertPublic(_Public):
    alert_id: str
    farm_id: str
    house_number: int | None
    subject: str
    rule: str
    severity: str
    state: str
    title: str
    message: str
    value: float | None
    expected: float | None
    opened_at: datetime
    last_event_at: datetime | None
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_by: str | None
    evidence: dict[str, Any] | None


class AlertActionPublic(_Public):
    action: Literal["acknowledge", "resolve"]
    actor: str
    note: str | None
    created_at: datetime


class AlertDetailPublic(AlertPublic):
    actions: list[AlertActionPublic] = Field(description="Acknowledgements and resolutions, oldest first.")


class AlertsPage(_Public):
    data: list[AlertPublic]
    count: int
    next_cursor: str | None


class AlertActionRequest(BaseModel):
    """Body of acknowledge and resolve: the actor (default: the API key's name) and an optional note."""

    model_config = ConfigDict(extra="forbid")

    actor: Annotated[str | None, Field(min_length=1, max_length=200), NoControl] = None
    # A note may span lines, so tab, newline and carriage return are allowed in it.
    note: Annotated[str | None, Field(max_length=2000), NoControlExceptLayout] = None


class PredictionPublic(_Public):
    event_id: str
    farm_id: str
    house_number: int
    controller_id: str | None
    score: float | None = Field(description="Rolling error rate over the window, 0 to 1.")
    threshold: float | None
    confidence: float | None
    window_start: datetime | None
    window_end: datetime | None
    created_at: datetime
    evidence: dict[str, Any] | None


class PredictionsPage(_Public):
    data: list[PredictionPublic]
    count: int
    next_cursor: str | None


class RecommendationPublic(_Public):
    event_id: str
    farm_id: str
    house_number: int
    action: str | None
    reason: str | None
    created_at: datetime
    evidence: dict[str, Any] | None


class RecommendationsPage(_Public):
    data: list[RecommendationPublic]
    count: int
    next_cursor: str | None


class ScrapeLogPublic(_Public):
    event_id: str
    farm_id: str
    cycle_id: str
    outcome: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    houses_total: int | None
    houses_connected: int | None
    readings_published: int | None
    dead_letters: int | None
    requests: int | None
    retries: int | None
    error_kind: str | None
    error_message: str | None


class ScrapeLogsPage(_Public):
    data: list[ScrapeLogPublic]
    count: int
    next_cursor: str | None


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ReadinessPublic(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        description="ok, or a fixed message such as 'kafka unreachable', per dependency."
    )
    detail: str | None = Field(default=None, description="Names the failing dependencies.")


class ErrorPublic(BaseModel):
    detail: str
