"""Integration tests of the migrations on both lanes: plain PostgreSQL 15 of the local stack and
TimescaleDB in PGlite. Both get the same rows; the aggregate views must return the same results.
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from migrations import (
    MigrationSettings,
    applied_versions,
    apply_migrations,
    apply_timescaledb_policies,
    detect_lane,
    load_migrations,
)

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 23, 41, tzinfo=UTC)
AGGREGATES = ("readings_5m", "readings_1h", "readings_1d")
INSERT_READING = (
    "INSERT INTO readings (observed_at, controller_id, farm_id, house_number, parameter, period, value,"
    " unit, quality, target) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


def _readings(farm_id: str) -> list[tuple[Any, ...]]:
    """Return instant rows every 2.5 minutes across a day boundary, and daily rows to be left out."""
    generator = random.Random(7)
    rows: list[tuple[Any, ...]] = []
    for house in (1, 2):
        controller = f"{farm_id}/house-{house}"
        for step in range(60):
            observed = START + timedelta(seconds=150 * step)
            for parameter, unit in (("temperature.average", "degC"), ("humidity.inside", "%")):
                target = None if step % 3 == 0 else round(generator.uniform(20, 30), 2)
                value = round(generator.uniform(10, 40), 3)
                rows.append(
                    (observed, controller, farm_id, house, parameter, "instant", value, unit, "good", target)
                )
        rows.append((START, controller, farm_id, house, "water.daily", "day", 5000.0, "L", "good", None))
    return rows


def _insert_in_batches(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]], size: int) -> None:
    for first in range(0, len(rows), size):
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(INSERT_READING, rows[first : first + size])


def _aggregate_rows(conn: psycopg.Connection[Any], view: str, farm_id: str) -> list[tuple[Any, ...]]:
    query = (
        "SELECT bucket, farm_id, house_number, controller_id, parameter, unit, value_avg, value_min,"
        f" value_max, value_count, target_avg FROM {view} WHERE farm_id = %s"
        " ORDER BY controller_id, parameter, bucket"
    )
    return list(conn.execute(query.encode(), (farm_id,)).fetchall())


def _expected_rows(rows: list[tuple[Any, ...]], width: timedelta) -> list[tuple[Any, ...]]:
    """Compute the aggregates in Python, from the rows as inserted."""
    epoch = datetime(2000, 1, 3, tzinfo=UTC)
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        observed, controller, farm, house, parameter, period, _value, unit, _quality, _target = row
        if period != "instant":
            continue
        bucket = epoch + ((observed - epoch) // width) * width
        groups.setdefault((controller, parameter, bucket, farm, house, unit), []).append(row)
    expected = []
    for (controller, parameter, bucket, farm, house, unit), members in sorted(groups.items()):
        values = [member[6] for member in members]
        targets = [member[9] for member in members if member[9] is not None]
        expected.append(
            (
                bucket,
                farm,
                house,
                controller,
                parameter,
                unit,
                sum(values) / len(values),
                min(values),
                max(values),
                len(values),
                sum(targets) / len(targets) if targets else None,
            )
        )
    return expected


def _assert_same(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got[:6] == want[:6]
        assert got[6] == pytest.approx(want[6])
        assert got[7:10] == want[7:10]
        assert got[10] == pytest.approx(want[10])


def test_plain_lane_applies_all_versions(fresh_database_url: str) -> None:
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        first = apply_migrations(conn)
        second = apply_migrations(conn)
        lane = detect_lane(conn)
        recorded = applied_versions(conn)

    assert lane == "postgres"
    assert first == [m.version for m in load_migrations("postgres")]
    assert second == []
    assert recorded == first


def test_concurrent_starts_apply_once(fresh_database_url: str) -> None:
    results: list[list[int]] = []
    failures: list[BaseException] = []

    def migrate() -> None:
        try:
            with psycopg.connect(fresh_database_url, autocommit=True) as conn:
                results.append(apply_migrations(conn))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert sorted(len(result) for result in results) == [0, 0, len(load_migrations("postgres"))]


def test_aggregates_match_on_both_lanes(fresh_database_url: str, timescale_database_url: str) -> None:
    farm_id = f"farm-{uuid.uuid4().hex[:8]}"
    rows = _readings(farm_id)
    results: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for lane, url in (("postgres", fresh_database_url), ("timescaledb", timescale_database_url)):
        with psycopg.connect(url) as conn:
            conn.autocommit = True
            apply_migrations(conn)
            conn.autocommit = False
            _insert_in_batches(conn, rows, size=37)
            # A replay of the same rows must change nothing.
            _insert_in_batches(conn, rows, size=100)
            results[lane] = {view: _aggregate_rows(conn, view, farm_id) for view in AGGREGATES}

    for view, width in zip(
        AGGREGATES, (timedelta(minutes=5), timedelta(hours=1), timedelta(days=1)), strict=True
    ):
        expected = _expected_rows(rows, width)
        _assert_same(results["postgres"][view], expected)
        _assert_same(results["timescaledb"][view], expected)


def test_timescale_policies_follow_settings(timescale_database_url: str) -> None:
    with psycopg.connect(timescale_database_url, autocommit=True) as conn:
        apply_timescaledb_policies(conn, MigrationSettings(compress_after_days=3, retain_days=30))
        changed: dict[str, str] = dict(
            conn.execute(
                "SELECT proc_name, config::text FROM timescaledb_information.jobs"
                " WHERE hypertable_name = 'readings'"
            ).fetchall()
        )
        apply_timescaledb_policies(conn, MigrationSettings())
        aggregates = conn.execute(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
            " ORDER BY view_name"
        ).fetchall()
        hypertables = [
            row[0] for row in conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")
        ]

    assert '"3 days"' in changed["policy_compression"]
    assert '"30 days"' in changed["policy_retention"]
    assert aggregates == [(view, False) for view in sorted(AGGREGATES)]
    assert "readings" in hypertables


def test_plain_retention_keeps_rollups(fresh_database_url: str) -> None:
    now = datetime.now(UTC)
    old = (
        now - timedelta(days=40),
        "c/house-1",
        "c",
        1,
        "temperature.average",
        "instant",
        20.0,
        "degC",
        "good",
        None,
    )
    recent = (
        now - timedelta(days=1),
        "c/house-1",
        "c",
        1,
        "temperature.average",
        "instant",
        22.0,
        "degC",
        "good",
        None,
    )
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        apply_migrations(conn)
        conn.cursor().executemany(INSERT_READING, [old, recent])
        removed = conn.execute("SELECT farmstream_drop_old_readings(INTERVAL '30 days')").fetchone()
        remaining = conn.execute("SELECT value FROM readings").fetchall()
        daily = conn.execute("SELECT value_count FROM readings_1d ORDER BY bucket").fetchall()

    assert removed == (1,)
    assert remaining == [(22.0,)]
    assert daily == [(1,), (1,)]


INSERT_STATUS = (
    "INSERT INTO house_status (event_id, controller_id, farm_id, house_number, connection_status,"
    " readings_published, observed_at, fetched_at) VALUES (%s, %s, %s, 3, %s, 0, %s, %s)"
)


@pytest.mark.parametrize("lane", ["postgres", "timescaledb"])
def test_missing_status_allowed(lane: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("fresh_database_url" if lane == "postgres" else "timescale_database_url")
    farm_id = f"farm-{uuid.uuid4().hex[:8]}"
    controller = f"{farm_id}/house-3"
    with psycopg.connect(url, autocommit=True) as conn:
        apply_migrations(conn)
        versions = applied_versions(conn)
        conn.execute(INSERT_STATUS, (uuid.uuid4(), controller, farm_id, "missing", START, START))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(INSERT_STATUS, (uuid.uuid4(), controller, farm_id, "lost", START, START))
        stored = conn.execute(
            "SELECT connection_status FROM house_status WHERE farm_id = %s", (farm_id,)
        ).fetchall()
        checks = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'house_status'::regclass AND contype = 'c'"
        ).fetchone()

    assert 3 in versions
    assert stored == [("missing",)]
    # 0003 replaced the constraint of 0001 instead of adding a second one beside it.
    assert checks == (1,)


@pytest.mark.parametrize("lane", ["postgres", "timescaledb"])
def test_latest_backfill_keeps_newest(lane: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("fresh_database_url" if lane == "postgres" else "timescale_database_url")
    farm_id = f"farm-{uuid.uuid4().hex[:8]}"
    rows = _readings(farm_id)
    # A daily row later than every instant row, which the backfill must leave out.
    late_daily = (START + timedelta(days=1), f"{farm_id}/house-1", farm_id, 1, "feed.daily", "day")
    rows.append((*late_daily, 800.0, "kg", "good", None))
    expected: dict[tuple[str, str], tuple[Any, ...]] = {}
    for observed, controller, _farm, _house, parameter, period, value, unit, quality, target in rows:
        known = expected.get((controller, parameter))
        if period == "instant" and (known is None or known[2] < observed):
            expected[(controller, parameter)] = (
                controller,
                parameter,
                observed,
                value,
                unit,
                quality,
                target,
            )

    with psycopg.connect(url, autocommit=True) as conn:
        apply_migrations(conn)
        # Back to the schema before 0004, with readings stored, as an existing database is.
        conn.execute("DROP TABLE latest_readings")
        conn.execute("DELETE FROM schema_migrations WHERE version = 4")
        conn.autocommit = False
        _insert_in_batches(conn, rows, size=50)
        conn.autocommit = True
        applied = apply_migrations(conn)
        backfilled = conn.execute(
            "SELECT controller_id, parameter, observed_at, value, unit, quality, target FROM latest_readings"
            " WHERE farm_id = %s ORDER BY controller_id, parameter",
            (farm_id,),
        ).fetchall()

    assert applied == [4]
    assert backfilled == [expected[key] for key in sorted(expected)]
