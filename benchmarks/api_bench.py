"""API latency benchmark: p50 and p99 of two queries at 20 concurrent clients, against raw psycopg.

One year of readings of one farm (8 houses x 60 parameters at 5-minute resolution, about 50
million rows) is loaded into a freshly migrated database on plain PostgreSQL, then:

- API: ``farmstream api`` (uvicorn, a separate process) on 127.0.0.1 is called by concurrent
  httpx clients, each sending its next request when the response to the previous one arrives;
- baseline: the same SQL the API runs, sent with psycopg from the same number of concurrent tasks.

Queries: ``GET /readings`` for one house and one parameter over the last 7 days at bucket=1h
(168 rows), and ``GET /farms/{farm}/houses/{n}/readings/latest`` (60 rows). House and parameter
rotate across requests.

Loading: rows are generated server-side with generate_series, one day per statement, while the
rollup trigger is disabled. The readings_5m/1h/1d rollups are then built in bulk with the
trigger's own arithmetic, so the tables end in the state the trigger would leave. Loading takes several
minutes; ``--keep-database NAME`` reuses a loaded database on later runs.

Run: ``.venv/bin/python benchmarks/api_bench.py [--admin-url URL] [--keep-database bench_api]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from api.keys import create_key  # noqa: E402
from api.queries.readings import ReadingsFilter, build_readings_query  # noqa: E402
from migrations import apply_migrations  # noqa: E402
from schemas.parameters import PARAMETERS  # noqa: E402

DEFAULT_ADMIN_URL = os.environ.get(
    "FARMSTREAM_DATABASE_URL", "postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream"
)
FARM = "bench-farm"
HOUSES = 8
PARAMETER_COUNT = 60
LATEST_SQL = """
    WITH newest AS (
        SELECT max(observed_at) AS observed_at FROM readings
        WHERE farm_id = %(farm)s AND house_number = %(house)s AND period = 'instant'
    )
    SELECT DISTINCT ON (r.controller_id, r.parameter)
        r.parameter, r.controller_id, r.observed_at, r.value, r.unit, r.quality, r.target, r.growth_day
    FROM readings AS r, newest
    WHERE r.farm_id = %(farm)s AND r.house_number = %(house)s AND r.period = 'instant'
        AND r.observed_at > newest.observed_at - %(window)s AND r.observed_at <= newest.observed_at
    ORDER BY r.controller_id, r.parameter, r.observed_at DESC
"""


def log(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", flush=True)


def database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def parameters() -> list[tuple[str, str, bool]]:
    chosen = list(PARAMETERS.values())[:PARAMETER_COUNT]
    return [(p.name, p.unit, p.signal in ("temperature", "humidity", "pressure")) for p in chosen]


LOADED_TABLES = ("readings", "readings_rollup_5m", "readings_rollup_1h", "readings_rollup_1d")


def drop_keys_and_indexes(connection: psycopg.Connection[Any], tables: tuple[str, ...]) -> list[str]:
    """Drop the unique keys and indexes of the tables; return the statements that recreate them."""
    rebuild = []
    for table in tables:
        constraints = connection.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
            (table,),
        ).fetchall()
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            (table, table),
        ).fetchall()
        for name, definition in constraints:
            connection.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
            )
            rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            rebuild.append(definition)
    return rebuild


def load(url: str, days: int, end: datetime) -> None:
    """Load ``days`` days of readings ending at ``end`` and build the rollups in bulk."""
    names = [name for name, _, _ in parameters()]
    units = [unit for _, unit, _ in parameters()]
    targets = [has_target for _, _, has_target in parameters()]
    start = end - timedelta(days=days)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute("SET work_mem = '256MB'")
        connection.execute("INSERT INTO farms (farm_id, name) VALUES (%s, 'Benchmark farm')", (FARM,))
        for house in range(1, HOUSES + 1):
            connection.execute(
                "INSERT INTO houses (farm_id, house_number, name) VALUES (%s, %s, %s)",
                (FARM, house, f"House {house}"),
            )
            connection.execute(
                "INSERT INTO controllers (controller_id, farm_id, house_number, connection_status,"
                " last_reading_at) VALUES (%s, %s, %s, 'connected', %s)",
                (f"{FARM}/house-{house}", FARM, house, end - timedelta(minutes=5)),
            )
        # Indexes, keys and the trigger are rebuilt after the load, which is faster than maintaining them.
        rebuild = drop_keys_and_indexes(connection, LOADED_TABLES)
        connection.execute("ALTER TABLE readings DISABLE TRIGGER readings_rollup")
        started = time.monotonic()
        for day in range(days):
            day_start = start + timedelta(days=day)
            connection.execute(
                """
                INSERT INTO readings (observed_at, controller_id, farm_id, house_number, parameter, period,
                                      value, unit, quality, target, growth_day)
                SELECT t, %(farm)s || '/house-' || h, %(farm)s, h, p.name, 'instant',
                       20 + 5 * sin(extract(epoch FROM t) / 86400 * 2 * pi()) + h * 0.1 + p.idx * 0.01
                          + random(),
                       p.unit, 'good', CASE WHEN p.has_target THEN 24.0 END, (%(day)s %% 56)::int
                FROM generate_series(%(start)s::timestamptz, %(start)s::timestamptz + interval '1 day'
                                     - interval '5 minutes', interval '5 minutes') AS t,
                     generate_series(1, %(houses)s) AS h,
                     unnest(%(names)s::text[], %(units)s::text[], %(targets)s::bool[])
                         WITH ORDINALITY AS p(name, unit, has_target, idx)
                ORDER BY t, h
                """,
                {
                    "farm": FARM,
                    "day": day,
                    "start": day_start,
                    "houses": HOUSES,
                    "names": names,
                    "units": units,
                    "targets": targets,
                },
            )
            if day % 30 == 29:
                log(f"loaded {day + 1} days in {time.monotonic() - started:.0f} s")
        log("building rollups")
        connection.execute(
            """
            INSERT INTO readings_rollup_5m (bucket, farm_id, house_number, controller_id, parameter, unit,
                value_sum, value_min, value_max, value_count, target_sum, target_count)
            SELECT date_bin('5 minutes', observed_at, TIMESTAMPTZ '2000-01-03 00:00:00+00'), farm_id,
                   house_number, controller_id, parameter, unit, sum(value), min(value), max(value), count(*),
                   sum(target), count(target)
            FROM readings WHERE period = 'instant' GROUP BY 1, 2, 3, 4, 5, 6
            """
        )
        for target, source, width in (
            ("readings_rollup_1h", "readings_rollup_5m", "1 hour"),
            ("readings_rollup_1d", "readings_rollup_1h", "1 day"),
        ):
            connection.execute(
                sql.SQL(
                    """
                    INSERT INTO {target} (bucket, farm_id, house_number, controller_id, parameter, unit,
                        value_sum, value_min, value_max, value_count, target_sum, target_count)
                    SELECT date_bin({width}::interval, bucket, TIMESTAMPTZ '2000-01-03 00:00:00+00'),
                           farm_id, house_number, controller_id, parameter, unit, sum(value_sum),
                           min(value_min), max(value_max), sum(value_count), sum(target_sum),
                           sum(target_count)
                    FROM {source} GROUP BY 1, 2, 3, 4, 5, 6
                    """
                ).format(
                    target=sql.Identifier(target), source=sql.Identifier(source), width=sql.Literal(width)
                )
            )
        log("building keys and indexes")
        for statement in rebuild:
            connection.execute(statement.encode())
        connection.execute("ALTER TABLE readings ENABLE TRIGGER readings_rollup")
        log("analyzing")
        connection.execute("VACUUM ANALYZE")
        count = connection.execute("SELECT count(*) FROM readings").fetchone()
        log(f"loaded {count[0] if count else 0} readings in {time.monotonic() - started:.0f} s")


def prepare_database(admin_url: str, name: str, days: int, end: datetime) -> str:
    """Create and load the database unless it already contains the benchmark farm; return its URL."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = database_url(admin_url, name)
    with psycopg.connect(url, autocommit=True) as connection:
        apply_migrations(connection)
        loaded = connection.execute("SELECT 1 FROM farms WHERE farm_id = %s", (FARM,)).fetchone()
    if loaded is None:
        log(f"loading {days} days into {name}; this takes several minutes")
        load(url, days, end)
    else:
        log(f"reusing the loaded database {name}")
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start_api(url: str, port: int, workers: int, pool_size: int) -> subprocess.Popen[bytes]:
    environment = dict(
        os.environ,
        FARMSTREAM_DATABASE_URL=url,
        FARMSTREAM_API_POOL_SIZE=str(pool_size),
        FARMSTREAM_LOG_LEVEL="WARNING",
    )
    command = [
        str(REPOSITORY / ".venv" / "bin" / "uvicorn"),
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=REPOSITORY, env=environment)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API did not respond on 127.0.0.1:{port} within 60 s; check its output above")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def run_concurrently(
    clients: int, requests_per_client: int, call: Callable[[int], Awaitable[None]]
) -> tuple[list[float], float]:
    """Run ``call(i)`` from ``clients`` closed-loop tasks; return latencies in ms and elapsed seconds."""
    latencies: list[float] = []

    async def client(index: int) -> None:
        for number in range(requests_per_client):
            started = time.perf_counter()
            await call(index * requests_per_client + number)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client(index) for index in range(clients)))
    return latencies, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "rps": len(latencies) / elapsed,
    }


async def measure_api(
    port: int, key: str, end: datetime, clients: int, requests: int, warmup: int, week_rows: int
) -> dict[str, dict[str, float]]:
    names = [name for name, _, _ in parameters()]
    start = end - timedelta(days=7)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    results = {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, limits=limits, timeout=30
    ) as http:

        async def week_hourly(index: int) -> None:
            params = {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "bucket": "1h",
                "house_number": index % HOUSES + 1,
                "parameter": names[index % len(names)],
                "limit": 1000,
            }
            response = await http.get("/readings", params=params)
            if response.status_code != 200 or response.json()["count"] != week_rows:
                raise RuntimeError(f"unexpected response {response.status_code}: {response.text[:200]}")

        async def latest(index: int) -> None:
            response = await http.get(f"/farms/{FARM}/houses/{index % HOUSES + 1}/readings/latest")
            if response.status_code != 200 or response.json()["count"] != PARAMETER_COUNT:
                raise RuntimeError(f"unexpected response {response.status_code}: {response.text[:200]}")

        for name, call in (("7 days at 1h", week_hourly), ("latest readings", latest)):
            await run_concurrently(clients, warmup, call)
            results[name] = summary(*await run_concurrently(clients, requests, call))
    return results


async def measure_baseline(
    url: str, end: datetime, clients: int, requests: int, warmup: int, week_rows: int
) -> dict[str, dict[str, float]]:
    names = [name for name, _, _ in parameters()]
    start = end - timedelta(days=7)
    results = {}

    async def configure(connection: psycopg.AsyncConnection[Any]) -> None:
        # The same session settings as the API's pool (api/db.py), so both run the same plans.
        await connection.execute("SET TIME ZONE 'UTC'")
        await connection.execute("SET jit = off")

    async with AsyncConnectionPool(
        url, min_size=clients, max_size=clients, kwargs={"autocommit": True}, configure=configure
    ) as pool:
        await pool.wait()

        async def week_hourly(index: int) -> None:
            query = ReadingsFilter(
                farm_ids=[FARM],
                start=start,
                end=end,
                bucket="1h",
                house_number=index % HOUSES + 1,
                parameters=[names[index % len(names)]],
            )
            statement, values = build_readings_query(query, None, 1001)
            async with pool.connection() as connection:
                rows = await (await connection.execute(statement, values)).fetchall()
            if len(rows) != week_rows:
                raise RuntimeError(f"expected {week_rows} rows, got {len(rows)}")

        async def latest(index: int) -> None:
            values = {"farm": FARM, "house": index % HOUSES + 1, "window": timedelta(minutes=60)}
            async with pool.connection() as connection:
                rows = await (await connection.execute(LATEST_SQL, values)).fetchall()
            if len(rows) != PARAMETER_COUNT:
                raise RuntimeError(f"expected {PARAMETER_COUNT} rows, got {len(rows)}")

        for name, call in (("7 days at 1h", week_hourly), ("latest readings", latest)):
            await run_concurrently(clients, warmup, call)
            results[name] = summary(*await run_concurrently(clients, requests, call))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL URL used to create the database."
    )
    parser.add_argument("--keep-database", metavar="NAME", help="Load into NAME (or reuse it) and keep it.")
    parser.add_argument("--days", type=int, default=365, help="Days of readings to load (default 365).")
    parser.add_argument("--clients", type=int, default=20, help="Concurrent clients (default 20).")
    parser.add_argument(
        "--requests", type=int, default=100, help="Measured requests per client (default 100)."
    )
    parser.add_argument("--warmup", type=int, default=10, help="Unmeasured requests per client first.")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes (default 1).")
    parser.add_argument("--pool-size", type=int, default=20, help="API database pool size per worker.")
    parser.add_argument("--load-only", action="store_true", help="Load the database and stop.")
    arguments = parser.parse_args()

    # The data ends at the start of the current hour, so "the last 7 days" is fully loaded.
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    name = arguments.keep_database or f"bench_api_{os.getpid()}"
    url = prepare_database(arguments.admin_url, name, arguments.days, end)
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            loaded_end = connection.execute(
                "SELECT max(observed_at) FROM readings WHERE farm_id = %s", (FARM,)
            ).fetchone()
            rows = connection.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = 'readings'"
            ).fetchone()
            _, key = create_key(connection, "api benchmark", [FARM])
        if arguments.load_only:
            return 0
        assert loaded_end is not None and loaded_end[0] is not None
        end = loaded_end[0] + timedelta(minutes=5)
        # 168 hourly rows per house and parameter once 7 days are loaded.
        week_rows = min(arguments.days, 7) * 24
        port = free_port()
        api = start_api(url, port, arguments.api_workers, arguments.pool_size)
        try:
            api_results = asyncio.run(
                measure_api(
                    port, key, end, arguments.clients, arguments.requests, arguments.warmup, week_rows
                )
            )
        finally:
            stop(api)
        baseline = asyncio.run(
            measure_baseline(url, end, arguments.clients, arguments.requests, arguments.warmup, week_rows)
        )
    finally:
        if arguments.keep_database is None:
            with psycopg.connect(arguments.admin_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"readings: about {rows[0] if rows else 0:,}; clients: {arguments.clients}; "
        f"requests per query: {arguments.clients * arguments.requests}; API workers: {arguments.api_workers}"
    )
    print("| query | API p50 | API p99 | API req/s | psycopg p50 | psycopg p99 | psycopg req/s | p99 ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for query, measured in api_results.items():
        raw = baseline[query]
        print(
            f"| {query} | {measured['p50']:.1f} ms | {measured['p99']:.1f} ms | {measured['rps']:.0f} | "
            f"{raw['p50']:.1f} ms | {raw['p99']:.1f} ms | {raw['rps']:.0f} | "
            f"{measured['p99'] / raw['p99']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
