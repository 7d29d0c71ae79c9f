"""A small, deterministic farm dataset inserted straight into the tables, for the API and dashboard tests.

Farm ids carry a random prefix so the rows of one test session never meet another's. Expected
results are computed in Python from the same rows the database received.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from api.keys import create_key, revoke_key

T0 = datetime(2026, 3, 2, tzinfo=UTC)
"""Start of the dataset, a Monday at midnight UTC, so every bucket width starts on it."""

READING_STEPS = 72
"""Six hours of readings at 5-minute resolution."""

INSERT_READING = (
    "INSERT INTO readings (observed_at, controller_id, farm_id, house_number, parameter, period, value,"
    " unit, quality, target, growth_day, source_key, source_command, fetched_at, event_id)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_ALERT = (
    "INSERT INTO alerts (alert_id, farm_id, house_number, subject, rule, severity, state, title, message,"
    " value, expected, opened_at, last_event_at, resolved_at, last_sequence, evidence, acknowledged_at,"
    " acknowledged_by)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


@dataclass(frozen=True)
class ReadingRow:
    observed_at: datetime
    controller_id: str
    farm_id: str
    house_number: int
    parameter: str
    period: str
    value: float
    unit: str
    quality: str
    target: float | None


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    farm_id: str
    house_number: int | None
    rule: str
    severity: str
    state: str
    opened_at: datetime


@dataclass(frozen=True)
class EventRow:
    event_id: str
    farm_id: str
    house_number: int
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class ScrapeRow:
    event_id: str
    farm_id: str
    outcome: str
    started_at: datetime


@dataclass
class Dataset:
    """What was inserted, and the API keys that read it."""

    north: str
    south: str
    east: str
    unknown: str
    key_north: str
    key_all: str
    key_revoked: str
    key_north_name: str
    key_all_name: str
    readings: list[ReadingRow] = field(default_factory=list)
    alerts: list[AlertRow] = field(default_factory=list)
    predictions: list[EventRow] = field(default_factory=list)
    scrape_logs: list[ScrapeRow] = field(default_factory=list)

    def controller(self, farm_id: str, house_number: int) -> str:
        return f"{farm_id}/house-{house_number}"


def bucket_start(moment: datetime, width: timedelta) -> datetime:
    """Floor a UTC time to a bucket of a width counted from 2000-01-03, as both lanes do."""
    origin = datetime(2000, 1, 3, tzinfo=UTC)
    return origin + ((moment - origin) // width) * width


def expected_buckets(readings: list[ReadingRow], width: timedelta) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Aggregate instant readings per (bucket, controller, parameter) like the readings_* relations."""
    groups: dict[tuple[Any, ...], list[ReadingRow]] = defaultdict(list)
    for row in readings:
        if row.period == "instant":
            groups[(bucket_start(row.observed_at, width), row.controller_id, row.parameter)].append(row)
    result = {}
    for key, rows in groups.items():
        values = [row.value for row in rows]
        targets = [row.target for row in rows if row.target is not None]
        result[key] = {
            "value_avg": sum(values) / len(values),
            "value_min": min(values),
            "value_max": max(values),
            "value_count": len(values),
            "target_avg": sum(targets) / len(targets) if targets else None,
        }
    return result


def _readings(dataset: Dataset) -> list[ReadingRow]:
    series = [
        (dataset.north, 1, "temperature.average", "degC", 0.0, True),
        (dataset.north, 1, "humidity.inside", "%", 40.0, False),
        (dataset.north, 1, "static_pressure", "Pa", 5.0, True),
        (dataset.north, 1, "water.daily", "L", 900.0, False),
        (dataset.north, 1, "feed.daily", "kg", 400.0, False),
        (dataset.north, 2, "temperature.average", "degC", 1.5, True),
        (dataset.south, 1, "temperature.average", "degC", -1.0, True),
        (dataset.east, 1, "temperature.average", "degC", 0.5, True),
    ]
    rows = []
    for farm_id, house, parameter, unit, offset, has_target in series:
        for step in range(READING_STEPS):
            value = round(25.0 + offset + 2.0 * math.sin(step / 7.0), 3)
            target = round(26.0 + offset - step / 100.0, 3) if has_target else None
            quality = "out_of_range" if step == 13 and parameter == "static_pressure" else "good"
            rows.append(
                ReadingRow(
                    observed_at=T0 + timedelta(minutes=5 * step),
                    controller_id=dataset.controller(farm_id, house),
                    farm_id=farm_id,
                    house_number=house,
                    parameter=parameter,
                    period="instant",
                    value=value,
                    unit=unit,
                    quality=quality,
                    target=target,
                )
            )
    # A daily summary row, which aggregates leave out.
    rows.append(
        ReadingRow(
            T0,
            dataset.controller(dataset.north, 1),
            dataset.north,
            1,
            "water.daily",
            "day",
            5400.0,
            "L",
            "good",
            None,
        )
    )
    return rows


def _alerts(dataset: Dataset) -> list[AlertRow]:
    specs = [
        (dataset.north, 1, "temperature_off_target", "warning", "open", 60),
        (dataset.north, 1, "static_pressure_band", "critical", "resolved", 120),
        (dataset.north, 2, "anomaly", "critical", "open", 180),
        (dataset.north, None, "scraper_failed", "critical", "open", 240),
        (dataset.north, 2, "anomaly", "warning", "resolved", 250),
        (dataset.south, 1, "temperature_off_target", "info", "open", 30),
    ]
    return [
        AlertRow(
            alert_id=str(uuid.uuid4()),
            farm_id=farm_id,
            house_number=house,
            rule=rule,
            severity=severity,
            state=state,
            opened_at=T0 + timedelta(minutes=minutes),
        )
        for farm_id, house, rule, severity, state, minutes in specs
    ]


def insert_alert(connection: psycopg.Connection[Any], alert: AlertRow) -> None:
    """Insert one alert and its opening transition; a resolved alert was acknowledged after 10 minutes."""
    resolved_at = alert.opened_at + timedelta(hours=1) if alert.state == "resolved" else None
    acknowledged_at = alert.opened_at + timedelta(minutes=10) if resolved_at else None
    evidence = {"score": 1.7, "detector": "RobustZScore"} if alert.rule == "anomaly" else {"delta": 3.2}
    subject = "temperature.average" if alert.house_number is not None else "scraper"
    connection.execute(
        INSERT_ALERT,
        (
            alert.alert_id,
            alert.farm_id,
            alert.house_number,
            subject,
            alert.rule,
            alert.severity,
            alert.state,
            f"{alert.rule} in house {alert.house_number}",
            "seeded alert",
            29.5,
            26.0,
            alert.opened_at,
            resolved_at or alert.opened_at,
            resolved_at,
            1 if resolved_at else 0,
            json.dumps(evidence),
            acknowledged_at,
            "seeded technician" if acknowledged_at else None,
        ),
    )
    payload = {"alert_id": alert.alert_id, "rule": alert.rule, "evidence": evidence, "state": "open"}
    connection.execute(
        "INSERT INTO alert_events (event_id, alert_id, sequence, state, severity, event_time, payload)"
        " VALUES (%s, %s, 0, 'open', %s, %s, %s)",
        (str(uuid.uuid4()), alert.alert_id, alert.severity, alert.opened_at, json.dumps(payload)),
    )


def _insert_events(connection: psycopg.Connection[Any], dataset: Dataset) -> None:
    for index, (farm_id, house) in enumerate(
        [(dataset.north, 1), (dataset.north, 1), (dataset.north, 2), (dataset.south, 1), (dataset.north, 1)]
    ):
        created = T0 + timedelta(minutes=40 * index + 10)
        kind = "recommendation" if index == 4 else "failure_prediction"
        row = EventRow(str(uuid.uuid4()), farm_id, house, kind, created)
        dataset.predictions.append(row)
        if kind == "failure_prediction":
            connection.execute(
                "INSERT INTO predictions (event_id, kind, farm_id, house_number, controller_id, score,"
                " threshold, confidence, window_start, window_end, created_at, evidence)"
                " VALUES (%s, %s, %s, %s, %s, %s, 0.5, 0.8, %s, %s, %s, %s)",
                (
                    row.event_id,
                    kind,
                    farm_id,
                    house,
                    dataset.controller(farm_id, house),
                    0.55 + index / 100,
                    created - timedelta(hours=1),
                    created,
                    created,
                    json.dumps({"sentinels": index}),
                ),
            )
        else:
            connection.execute(
                "INSERT INTO predictions (event_id, kind, farm_id, house_number, action, reason, created_at,"
                " evidence) VALUES (%s, %s, %s, %s, 'raise_minimum_ventilation', 'CO2 above 3000 ppm',"
                " %s, '{}')",
                (row.event_id, kind, farm_id, house, created),
            )
    for farm_id in (dataset.north, dataset.south):
        for cycle in range(12):
            started = T0 + timedelta(minutes=5 * cycle)
            outcome = "failed" if farm_id == dataset.north and cycle in (4, 5) else "success"
            row = ScrapeRow(str(uuid.uuid4()), farm_id, outcome, started)
            dataset.scrape_logs.append(row)
            connection.execute(
                "INSERT INTO scrape_logs (event_id, farm_id, cycle_id, outcome, started_at, finished_at,"
                " duration_seconds, houses_total, houses_connected, readings_published, dead_letters,"
                " requests, retries, error_kind, error_message)"
                " VALUES (%s, %s, %s, %s, %s, %s, 4.2, 2, 2, 120, 0, 8, 0, %s, %s)",
                (
                    row.event_id,
                    farm_id,
                    f"cycle-{cycle}",
                    outcome,
                    started,
                    started + timedelta(seconds=4.2),
                    "transient" if outcome == "failed" else None,
                    "portal answered 502" if outcome == "failed" else None,
                ),
            )
    for step in range(3):
        observed = T0 + timedelta(minutes=5 * step)
        connection.execute(
            "INSERT INTO house_status (event_id, controller_id, farm_id, house_number, connection_status,"
            " growth_day, house_mode, siren_on, alarm_codes, readings_published, sentinel_keys, observed_at,"
            " fetched_at) VALUES (%s, %s, %s, 1, %s, 21, 0, false, '{}', 60, '{}', %s, %s)",
            (
                str(uuid.uuid4()),
                dataset.controller(dataset.north, 1),
                dataset.north,
                "connected" if step != 1 else "offline",
                observed,
                observed,
            ),
        )
    connection.execute(
        "INSERT INTO dead_letters (event_id, stage, reason, error_type, farm_id, house_number,"
        " raw_encoding, raw_payload, created_at) VALUES (%s, 'producer', 'value -999 is a sentinel',"
        " 'SentinelValue', %s, 1, 'utf-8', '{\"v\": -999}', %s)",
        (uuid.uuid4().hex, dataset.north, T0 + timedelta(minutes=20)),
    )


def insert_latest(connection: psycopg.Connection[Any], rows: list[ReadingRow]) -> None:
    """Insert the newest instant row of each controller and parameter, as the sink keeps them."""
    newest: dict[tuple[str, str], ReadingRow] = {}
    for row in rows:
        known = newest.get((row.controller_id, row.parameter))
        if row.period == "instant" and (known is None or known.observed_at < row.observed_at):
            newest[(row.controller_id, row.parameter)] = row
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO latest_readings (farm_id, house_number, controller_id, parameter, observed_at,"
            " value, unit, quality, target, growth_day) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 21)",
            [
                (
                    row.farm_id,
                    row.house_number,
                    row.controller_id,
                    row.parameter,
                    row.observed_at,
                    row.value,
                    row.unit,
                    row.quality,
                    row.target,
                )
                for row in newest.values()
            ],
        )


def seed_dataset(database_url: str) -> Dataset:
    """Insert farms, houses, controllers, readings, alerts, events and API keys; return what went in."""
    prefix = f"api{uuid.uuid4().hex[:8]}"
    dataset = Dataset(
        north=f"{prefix}-north",
        south=f"{prefix}-south",
        east=f"{prefix}-east",
        unknown=f"{prefix}-unknown",
        key_north="",
        key_all="",
        key_revoked="",
        key_north_name=f"{prefix} north reader",
        key_all_name=f"{prefix} all farms",
    )
    # No prepared statements: PGlite connections share one session, where their names would collide.
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as connection:
        for farm_id, houses in ((dataset.north, (1, 2)), (dataset.south, (1,)), (dataset.east, (1,))):
            connection.execute(
                "INSERT INTO farms (farm_id, name) VALUES (%s, %s)", (farm_id, farm_id.title())
            )
            for house in houses:
                connection.execute(
                    "INSERT INTO houses (farm_id, house_number, name) VALUES (%s, %s, %s)",
                    (farm_id, house, f"House {house}"),
                )
                connection.execute(
                    "INSERT INTO controllers (controller_id, farm_id, house_number, connection_status,"
                    " growth_day, controller_time, last_status_at, last_reading_at)"
                    " VALUES (%s, %s, %s, 'connected', 21, '06:00', %s, %s)",
                    (
                        dataset.controller(farm_id, house),
                        farm_id,
                        house,
                        T0 + timedelta(hours=6),
                        T0 + timedelta(minutes=5 * (READING_STEPS - 1)),
                    ),
                )
        dataset.readings = _readings(dataset)
        values = [
            (
                row.observed_at,
                row.controller_id,
                row.farm_id,
                row.house_number,
                row.parameter,
                row.period,
                row.value,
                row.unit,
                row.quality,
                row.target,
                21,
                "General.Average_Temperature",
                "RNBL_GetCommandData/0",
                row.observed_at + timedelta(seconds=30),
                str(uuid.uuid4()),
            )
            for row in dataset.readings
        ]
        # The PGlite server drops or stalls pipelines of a few hundred statements: insert in chunks.
        with connection.cursor() as cursor:
            for start in range(0, len(values), 100):
                cursor.executemany(INSERT_READING, values[start : start + 100])
        insert_latest(connection, dataset.readings)
        dataset.alerts = _alerts(dataset)
        for alert in dataset.alerts:
            insert_alert(connection, alert)
        _insert_events(connection, dataset)
        _, dataset.key_north = create_key(connection, dataset.key_north_name, [dataset.north])
        _, dataset.key_all = create_key(
            connection, dataset.key_all_name, [dataset.north, dataset.south, dataset.east]
        )
        revoked_id, dataset.key_revoked = create_key(connection, f"{prefix} revoked", [dataset.north])
        revoke_key(connection, revoked_id)
    return dataset
