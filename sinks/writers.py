"""Idempotent SQL writes of each event type, run inside the caller's transaction.

Every statement either skips rows that are already there (``ON CONFLICT DO NOTHING``) or upserts
by the event's deterministic id, so writing the same events twice leaves the tables unchanged.
Each function returns the number of rows it inserted or updated, by table.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from schemas.decoding import AnyReading
from schemas.events import (
    Alert,
    DeadLetter,
    FailurePrediction,
    HouseStatus,
    Recommendation,
    ScrapeLog,
)
from sinks.records import SinkEvent

Cursor = psycopg.Cursor[Any]

READING_COLUMNS = (
    "observed_at",
    "controller_id",
    "farm_id",
    "house_number",
    "parameter",
    "period",
    "value",
    "unit",
    "quality",
    "target",
    "growth_day",
    "source_key",
    "source_command",
    "fetched_at",
    "event_id",
)
_READING_COLUMN_LIST = ", ".join(READING_COLUMNS)

# Staging table for COPY: no indexes and no constraints but NOT NULL, emptied at every commit.
_CREATE_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE readings INCLUDING DEFAULTS)"
    " ON COMMIT DELETE ROWS"
)
_COPY_STAGING = f"COPY readings_staging ({_READING_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
# PostgreSQL types of READING_COLUMNS, for binary COPY (about a quarter faster than text here).
_READING_TYPES = (
    "timestamptz",
    "text",
    "text",
    "int4",
    "text",
    "text",
    "float8",
    "text",
    "text",
    "float8",
    "int4",
    "text",
    "text",
    "timestamptz",
    "uuid",
)
_INSERT_FROM_STAGING = (
    f"INSERT INTO readings ({_READING_COLUMN_LIST}) SELECT {_READING_COLUMN_LIST} FROM readings_staging"
    " ON CONFLICT DO NOTHING"
)
_INSERT_READING = (
    f"INSERT INTO readings ({_READING_COLUMN_LIST})"
    f" VALUES ({', '.join(['%s'] * len(READING_COLUMNS))}) ON CONFLICT DO NOTHING"
)

# One statement for the whole batch: arrays of the newest instant reading per key, one row each.
# The WHERE clause keeps a replayed or late redelivered reading from moving a value back in time.
_UPSERT_LATEST = (
    "INSERT INTO latest_readings AS l (farm_id, house_number, controller_id, parameter, observed_at,"
    " value, unit, quality, target, growth_day)"
    " SELECT * FROM unnest(%s::text[], %s::int4[], %s::text[], %s::text[], %s::timestamptz[],"
    " %s::float8[], %s::text[], %s::text[], %s::float8[], %s::int4[])"
    " ON CONFLICT (farm_id, house_number, controller_id, parameter) DO UPDATE SET"
    " observed_at = excluded.observed_at, value = excluded.value, unit = excluded.unit,"
    " quality = excluded.quality, target = excluded.target, growth_day = excluded.growth_day"
    " WHERE l.observed_at < excluded.observed_at"
)


def reading_row(reading: AnyReading) -> tuple[Any, ...]:
    """Return a reading as a row in ``READING_COLUMNS`` order."""
    return (
        reading.observed_at,
        reading.controller_id,
        reading.farm_id,
        reading.house_number,
        reading.parameter,
        reading.period,
        reading.value,
        reading.unit,
        reading.quality,
        reading.target,
        reading.growth_day,
        reading.source_key,
        reading.source_command,
        reading.fetched_at,
        reading.event_id,
    )


def write_events(cursor: Cursor, events: Sequence[SinkEvent], use_copy: bool) -> Counter[str]:
    """Write a mixed list of events, parents first (farms, houses, controllers), and count rows by table."""
    readings: list[AnyReading] = []
    statuses: list[HouseStatus] = []
    alerts: list[Alert] = []
    predictions: list[FailurePrediction | Recommendation] = []
    scrape_logs: list[ScrapeLog] = []
    dead_letters: list[DeadLetter] = []
    for event in events:
        if isinstance(event, AnyReading):
            readings.append(event)
        elif isinstance(event, HouseStatus):
            statuses.append(event)
        elif isinstance(event, Alert):
            alerts.append(event)
        elif isinstance(event, FailurePrediction | Recommendation):
            predictions.append(event)
        elif isinstance(event, ScrapeLog):
            scrape_logs.append(event)
        else:
            dead_letters.append(event)

    counts: Counter[str] = Counter()
    if statuses:
        counts.update(write_house_statuses(cursor, statuses))
    if readings:
        counts.update(write_readings(cursor, readings, use_copy))
    if alerts:
        counts.update(write_alerts(cursor, alerts))
    if predictions:
        counts.update(write_predictions(cursor, predictions))
    if scrape_logs:
        counts.update(write_scrape_logs(cursor, scrape_logs))
    if dead_letters:
        counts.update(write_dead_letters(cursor, dead_letters))
    return counts


def _executemany(cursor: Cursor, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    rows = list(rows)
    if not rows:
        return 0
    cursor.executemany(statement.encode(), rows)
    return max(cursor.rowcount, 0)


def upsert_farms_and_houses(cursor: Cursor, houses: Iterable[tuple[str, int]]) -> Counter[str]:
    """Insert the farms and houses not yet known; existing rows are left as they are."""
    houses = sorted(set(houses))
    farms = sorted({farm_id for farm_id, _ in houses})
    counts: Counter[str] = Counter()
    counts["farms"] = _executemany(
        cursor, "INSERT INTO farms (farm_id) VALUES (%s) ON CONFLICT DO NOTHING", [(farm,) for farm in farms]
    )
    counts["houses"] = _executemany(
        cursor, "INSERT INTO houses (farm_id, house_number) VALUES (%s, %s) ON CONFLICT DO NOTHING", houses
    )
    return counts


def write_readings(cursor: Cursor, readings: Sequence[AnyReading], use_copy: bool) -> Counter[str]:
    """Insert readings, skipping any already stored, and move each controller's last_reading_at forward.

    The newest instant reading of each (controller, parameter) of the batch is upserted into
    ``latest_readings``, where it replaces only an older one.

    With ``use_copy`` the rows go through COPY into a temporary staging table and one
    ``INSERT ... SELECT``; otherwise through ``executemany`` (for servers that cannot COPY).
    """
    counts = upsert_farms_and_houses(cursor, ((r.farm_id, r.house_number) for r in readings))

    latest: dict[str, tuple[str, int, datetime]] = {}
    newest: dict[tuple[str, str], AnyReading] = {}
    for reading in readings:
        known = latest.get(reading.controller_id)
        if known is None or known[2] < reading.observed_at:
            latest[reading.controller_id] = (reading.farm_id, reading.house_number, reading.observed_at)
        if reading.period == "instant":
            key = (reading.controller_id, reading.parameter)
            current = newest.get(key)
            if current is None or current.observed_at < reading.observed_at:
                newest[key] = reading
    counts["controllers"] = _executemany(
        cursor,
        "INSERT INTO controllers (controller_id, farm_id, house_number, last_reading_at)"
        " VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (controller_id) DO UPDATE SET last_reading_at = excluded.last_reading_at"
        " WHERE controllers.last_reading_at IS NULL"
        " OR controllers.last_reading_at < excluded.last_reading_at",
        sorted((controller, *rest) for controller, rest in latest.items()),
    )

    if use_copy:
        cursor.execute(_CREATE_STAGING)
        with cursor.copy(_COPY_STAGING) as copy:
            copy.set_types(list(_READING_TYPES))
            for reading in readings:
                copy.write_row((*reading_row(reading)[:-1], uuid.UUID(reading.event_id)))
        cursor.execute(_INSERT_FROM_STAGING)
        counts["readings"] = max(cursor.rowcount, 0)
    else:
        counts["readings"] = _executemany(cursor, _INSERT_READING, (reading_row(r) for r in readings))
    counts["latest_readings"] = _upsert_latest_readings(cursor, newest.values())
    return counts


def _upsert_latest_readings(cursor: Cursor, newest: Iterable[AnyReading]) -> int:
    # Sorted by key, so concurrent sinks lock the rows in the same order.
    chosen = sorted(newest, key=lambda r: (r.farm_id, r.house_number, r.controller_id, r.parameter))
    if not chosen:
        return 0
    cursor.execute(
        _UPSERT_LATEST,
        (
            [r.farm_id for r in chosen],
            [r.house_number for r in chosen],
            [r.controller_id for r in chosen],
            [r.parameter for r in chosen],
            [r.observed_at for r in chosen],
            [r.value for r in chosen],
            [r.unit for r in chosen],
            [r.quality for r in chosen],
            [r.target for r in chosen],
            [r.growth_day for r in chosen],
        ),
    )
    return max(cursor.rowcount, 0)


def write_house_statuses(cursor: Cursor, statuses: Sequence[HouseStatus]) -> Counter[str]:
    """Record house status events and update each controller's current state from the newest one."""
    counts = upsert_farms_and_houses(cursor, ((s.farm_id, s.house_number) for s in statuses))
    newest: dict[str, HouseStatus] = {}
    for status in statuses:
        known = newest.get(status.controller_id)
        if known is None or known.observed_at < status.observed_at:
            newest[status.controller_id] = status
    counts["controllers"] = _executemany(
        cursor,
        "INSERT INTO controllers (controller_id, farm_id, house_number, connection_status, growth_day,"
        " controller_time, last_status_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (controller_id) DO UPDATE SET connection_status = excluded.connection_status,"
        " growth_day = excluded.growth_day, controller_time = excluded.controller_time,"
        " last_status_at = excluded.last_status_at"
        " WHERE controllers.last_status_at IS NULL OR controllers.last_status_at <= excluded.last_status_at",
        [
            (
                s.controller_id,
                s.farm_id,
                s.house_number,
                s.connection_status,
                s.growth_day,
                s.controller_time,
                s.observed_at,
            )
            for s in sorted(newest.values(), key=lambda status: status.controller_id)
        ],
    )
    counts["house_status"] = _executemany(
        cursor,
        "INSERT INTO house_status (event_id, controller_id, farm_id, house_number, connection_status,"
        " growth_day, house_mode, siren_on, alarm_codes, readings_published, sentinel_keys, observed_at,"
        " fetched_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [
            (
                s.event_id,
                s.controller_id,
                s.farm_id,
                s.house_number,
                s.connection_status,
                s.growth_day,
                s.house_mode,
                s.siren_on,
                list(s.alarm_codes),
                s.readings_published,
                list(s.sentinel_keys),
                s.observed_at,
                s.fetched_at,
            )
            for s in statuses
        ],
    )
    return counts


# An alert row only moves to a higher sequence. A resolution made by a person through the API
# (resolved_by set) is kept even when a later transition from the stream reports the alert open.
_UPSERT_ALERT = (
    "INSERT INTO alerts AS a (alert_id, farm_id, house_number, subject, rule, severity, state, title,"
    " message, value, expected, opened_at, last_event_at, resolved_at, last_sequence, evidence)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (alert_id) DO UPDATE SET severity = excluded.severity,"
    " state = CASE WHEN a.resolved_by IS NULL THEN excluded.state ELSE a.state END,"
    " title = excluded.title, message = excluded.message, value = excluded.value,"
    " expected = excluded.expected, last_event_at = excluded.last_event_at,"
    " resolved_at = CASE WHEN a.resolved_by IS NULL THEN excluded.resolved_at ELSE a.resolved_at END,"
    " last_sequence = excluded.last_sequence, evidence = excluded.evidence"
    " WHERE a.last_sequence < excluded.last_sequence"
)


def write_alerts(cursor: Cursor, alerts: Sequence[Alert]) -> Counter[str]:
    """Upsert each alert from its transitions and record every transition once in alert_events."""
    counts: Counter[str] = Counter()
    # One statement per transition, in sequence order, because one upsert cannot touch a row twice.
    ordered = sorted(alerts, key=lambda alert: (alert.alert_id, alert.sequence))
    counts["alerts"] = _executemany(
        cursor,
        _UPSERT_ALERT,
        [
            (
                a.alert_id,
                a.farm_id,
                a.house_number,
                a.subject,
                a.rule,
                a.severity,
                "resolved" if a.state == "resolved" else "open",
                a.title,
                a.message,
                a.value,
                a.expected,
                a.opened_at,
                a.event_time,
                a.resolved_at,
                a.sequence,
                Jsonb(a.evidence),
            )
            for a in ordered
        ],
    )
    counts["alert_events"] = _executemany(
        cursor,
        "INSERT INTO alert_events (event_id, alert_id, sequence, state, severity, event_time, payload)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [
            (
                a.event_id,
                a.alert_id,
                a.sequence,
                a.state,
                a.severity,
                a.event_time,
                Jsonb(a.model_dump(mode="json")),
            )
            for a in ordered
        ],
    )
    return counts


def write_predictions(
    cursor: Cursor, predictions: Sequence[FailurePrediction | Recommendation]
) -> Counter[str]:
    """Upsert failure predictions and recommendations by event id."""
    rows: list[tuple[Any, ...]] = []
    for event in predictions:
        if isinstance(event, FailurePrediction):
            rows.append(
                (
                    event.event_id,
                    event.kind,
                    event.farm_id,
                    event.house_number,
                    event.controller_id,
                    event.score,
                    event.threshold,
                    event.confidence,
                    None,
                    None,
                    event.window_start,
                    event.window_end,
                    event.predicted_at,
                    Jsonb(event.evidence),
                )
            )
        else:
            rows.append(
                (
                    event.event_id,
                    event.kind,
                    event.farm_id,
                    event.house_number,
                    None,
                    None,
                    None,
                    None,
                    event.action,
                    event.reason,
                    None,
                    None,
                    event.created_at,
                    Jsonb(event.evidence),
                )
            )
    count = _executemany(
        cursor,
        "INSERT INTO predictions (event_id, kind, farm_id, house_number, controller_id, score, threshold,"
        " confidence, action, reason, window_start, window_end, created_at, evidence)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (event_id) DO UPDATE SET kind = excluded.kind, farm_id = excluded.farm_id,"
        " house_number = excluded.house_number, controller_id = excluded.controller_id,"
        " score = excluded.score, threshold = excluded.threshold, confidence = excluded.confidence,"
        " action = excluded.action, reason = excluded.reason, window_start = excluded.window_start,"
        " window_end = excluded.window_end, created_at = excluded.created_at, evidence = excluded.evidence",
        _unique_by_first_column(rows),
    )
    return Counter({"predictions": count})


def _unique_by_first_column(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # A replayed event can appear twice in one batch; one upsert per id keeps the statement valid.
    return list({row[0]: row for row in rows}.values())


def write_scrape_logs(cursor: Cursor, logs: Sequence[ScrapeLog]) -> Counter[str]:
    """Insert scrape-log entries, skipping any already stored."""
    count = _executemany(
        cursor,
        "INSERT INTO scrape_logs (event_id, farm_id, cycle_id, outcome, started_at, finished_at,"
        " duration_seconds, houses_total, houses_connected, readings_published, dead_letters, requests,"
        " retries, error_kind, error_message)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [
            (
                log.event_id,
                log.farm_id,
                log.cycle_id,
                log.outcome,
                log.started_at,
                log.finished_at,
                log.duration_seconds,
                log.houses_total,
                log.houses_connected,
                log.readings_published,
                log.dead_letters,
                log.requests,
                log.retries,
                log.error_kind,
                log.error_message,
            )
            for log in logs
        ],
    )
    return Counter({"scrape_logs": count})


def write_dead_letters(cursor: Cursor, letters: Sequence[DeadLetter]) -> Counter[str]:
    """Insert dead letters, skipping any already stored."""
    count = _executemany(
        cursor,
        "INSERT INTO dead_letters (event_id, stage, reason, error_type, farm_id, house_number, command,"
        " source_key, source_topic, source_partition, source_offset, raw_encoding, raw_payload, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [
            (
                letter.event_id,
                letter.stage,
                letter.reason,
                letter.error_type,
                letter.farm_id,
                letter.house_number,
                letter.command,
                letter.source_key,
                letter.source_topic,
                letter.source_partition,
                letter.source_offset,
                letter.raw_encoding,
                letter.raw_payload,
                letter.created_at,
            )
            for letter in letters
        ],
    )
    return Counter({"dead_letters": count})
