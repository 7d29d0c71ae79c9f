"""Builders of events shared by the stream-processor unit tests (plain functions, no fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.events import HouseStatus, Reading, ScrapeLog, controller_id_for

START = datetime(2026, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)


def make_reading(
    parameter: str,
    value: float,
    at: datetime,
    *,
    farm: str = "farm-a",
    house: int = 1,
    target: float | None = None,
    growth_day: int | None = None,
    quality: str = "good",
    unit: str = "degC",
    controller_time: str | None = None,
) -> Reading:
    controller = controller_id_for(farm, house)
    return Reading.model_validate(
        {
            "event_id": Reading.make_id(controller, parameter, "instant", at),
            "farm_id": farm,
            "house_number": house,
            "controller_id": controller,
            "parameter": parameter,
            "source_key": parameter,
            "source_command": "test",
            "value": value,
            "unit": unit,
            "quality": quality,
            "target": target,
            "growth_day": growth_day,
            "controller_time": controller_time,
            "observed_at": at,
            "fetched_at": at,
        }
    )


def make_status(
    at: datetime,
    *,
    farm: str = "farm-a",
    house: int = 1,
    connection: str = "connected",
    alarms: list[str] | None = None,
    sentinels: list[str] | None = None,
    published: int = 40,
    fetched: datetime | None = None,
) -> HouseStatus:
    controller = controller_id_for(farm, house)
    return HouseStatus.model_validate(
        {
            "event_id": HouseStatus.make_id(controller, at),
            "farm_id": farm,
            "house_number": house,
            "controller_id": controller,
            "connection_status": connection,
            "alarm_codes": alarms or [],
            "readings_published": published,
            "sentinel_keys": sentinels or [],
            "observed_at": at,
            "fetched_at": fetched or at,
        }
    )


def make_scrape_log(at: datetime, outcome: str, *, farm: str = "farm-a") -> ScrapeLog:
    cycle = at.isoformat()
    return ScrapeLog.model_validate(
        {
            "event_id": ScrapeLog.make_id(farm, cycle),
            "farm_id": farm,
            "cycle_id": cycle,
            "outcome": outcome,
            "started_at": at,
            "finished_at": at,
            "duration_seconds": 0.0,
            "houses_total": 1,
            "houses_connected": 1,
            "readings_published": 0,
            "dead_letters": 0,
            "requests": 1,
            "retries": 0,
            "error_kind": "credentials" if outcome == "auth_failed" else None,
        }
    )
