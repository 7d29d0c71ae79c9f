"""API latency benchmark: p50 and p99 of two queries at 20 concurrent clients, against raw psycopg.

One year of readings of one farm (8 houses x 60 parameters at 5-minute resolution, about 50
million rows) is loaded into a freshly migrated database on plain PostgreSQL, then:

- API: ``farmstream api --workers N`` (a separate process, httptools and uvloop; plain uvicorn when
  ``--http`` or ``--loop`` name another parser or loop) on 127.0.0.1 is called by concurrent
  clients, each sending its next request when the response to the previous one arrives. The
  default client is a minimal keep-alive HTTP/1.1 client on asyncio streams, one connection per
  client, because the load generator shares the CPUs with the API and PostgreSQL; ``--client httpx``
  uses one httpx.AsyncClient instead;
- baseline: the same SQL the API runs, sent with psycopg from the same number of concurrent tasks,
  with rows in binary as the API fetches them.

Each measurement reports the CPU time per request of the API processes (from /proc) and of the
load generator (``time.process_time``), and the 1-minute load average when it started. Other work on
the machine inflates latency much more than CPU time. ``--rounds`` repeats every measurement.

Queries: ``GET /readings`` for one house and one parameter over the last 7 days at bucket=1h
(168 rows), and ``GET /farms/{farm}/houses/{n}/readings/latest`` (60 rows). House and parameter
rotate across requests.

Loading: rows are generated server-side with generate_series, one day per statement, while the
rollup trigger is disabled. The readings_5m/1h/1d rollups are then built in bulk with the
trigger's own arithmetic, so the tables end in the state the trigger would leave, and
latest_readings gets the newest row per key as the sink keeps it. Loading takes several
minutes; ``--keep-database NAME`` reuses a loaded database on later runs (a database loaded before
latest_readings existed gets it filled by the migration's backfill when it is reused).

Run: ``.venv/bin/python benchmarks/api_bench.py [--admin-url URL] [--keep-database bench_api]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import psycopg
import uvloop
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from api.db import configure_session  # noqa: E402
from api.keys import create_key  # noqa: E402
from api.queries.readings import LATEST_READINGS_SQL, ReadingsFilter, build_readings_query  # noqa: E402
from migrations import apply_migrations  # noqa: E402
from schemas.parameters import PARAMETERS  # noqa: E402

DEFAULT_ADMIN_URL = os.environ.get(
    "FARMSTREAM_DATABASE_URL", "postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream"
)
FARM = "bench-farm"
HOUSES = 8
PARAMETER_COUNT = 60


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
        # What the sink keeps: the newest instant row per key. The migration's backfill ran before
        # the load, on an empty table; every key has rows on the last loaded day.
        log("filling latest_readings")
        connection.execute(
            """
            INSERT INTO latest_readings (farm_id, house_number, controller_id, parameter, observed_at,
                                         value, unit, quality, target, growth_day)
            SELECT DISTINCT ON (controller_id, parameter) farm_id, house_number, controller_id, parameter,
                   observed_at, value, unit, quality, target, growth_day
            FROM readings
            WHERE period = 'instant' AND observed_at >= %s
            ORDER BY controller_id, parameter, observed_at DESC
            """,
            (end - timedelta(days=1),),
        )
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


def start_api(
    url: str, port: int, workers: int, pool_size: int, http: str, loop: str
) -> subprocess.Popen[bytes]:
    """Start ``farmstream api``, or plain uvicorn when another HTTP parser or event loop is requested."""
    environment = dict(
        os.environ,
        FARMSTREAM_DATABASE_URL=url,
        FARMSTREAM_API_POOL_SIZE=str(pool_size),
        FARMSTREAM_API_HOST="127.0.0.1",
        FARMSTREAM_API_PORT=str(port),
        FARMSTREAM_LOG_LEVEL="WARNING",
    )
    if (http, loop) == ("httptools", "uvloop"):
        # Run as a module from the repository, so that an exported copy runs its own code.
        command = [
            str(REPOSITORY / ".venv" / "bin" / "python"),
            "-m",
            "farmstream.cli",
            "api",
            "--no-migrate",
            "--workers",
            str(workers),
        ]
    else:
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
            "--http",
            http,
            "--loop",
            loop,
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


def process_tree_cpu_seconds(root: int) -> float:
    """Return the user and system CPU time of a process and all its descendants, from /proc."""
    # Fields after the parenthesised command name: state is 0, ppid 1, utime 11, stime 12.
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree = {root}
    grown = True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    return sum(cpu.get(pid, 0.0) for pid in tree)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Measurement:
    """Latencies of one closed-loop run, with the CPU time spent on each side and the load average."""

    latencies_ms: list[float]
    elapsed_seconds: float
    load_average: float
    client_cpu_seconds: float
    server_cpu_seconds: float | None = None

    def row(self) -> dict[str, float]:
        requests = len(self.latencies_ms)
        result = {
            "p50": statistics.median(self.latencies_ms),
            "p99": percentile(self.latencies_ms, 0.99),
            "rps": requests / self.elapsed_seconds,
            "load": self.load_average,
            "client_cpu_ms": self.client_cpu_seconds * 1000 / requests,
        }
        if self.server_cpu_seconds is not None:
            result["server_cpu_ms"] = self.server_cpu_seconds * 1000 / requests
        return result


async def run_concurrently(
    clients: int, requests_per_client: int, call: Callable[[int, int], Awaitable[None]]
) -> Measurement:
    """Run ``call(client, i)`` from ``clients`` closed-loop tasks and time every call."""
    latencies: list[float] = []

    async def client(index: int) -> None:
        for number in range(requests_per_client):
            started = time.perf_counter()
            await call(index, index * requests_per_client + number)
            latencies.append((time.perf_counter() - started) * 1000)

    load_average = os.getloadavg()[0]
    cpu_started = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(index) for index in range(clients)))
    elapsed = time.perf_counter() - started
    return Measurement(latencies, elapsed, load_average, time.process_time() - cpu_started)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class KeepAliveConnection:
    """One keep-alive HTTP/1.1 connection that sends GET requests and reads Content-Length bodies.

    It parses only what the API sends to these requests, so the load generator spends little CPU.
    """

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.header_block = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def get(self, target: str) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{self.header_block}\r\n"
        self.writer.write(request.encode())
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError):
            # uvicorn closes a keep-alive connection after 5 idle seconds, and a client that finished its
            # share early can wait that long. Like other clients, send the request again on a new connection.
            await self.close()
            self.reconnects += 1
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.write(request.encode())
            head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
        return int(status_line.split(" ", 2)[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


Getter = Callable[[int, str], Awaitable[tuple[int, bytes]]]


def check_count(status: int, body: bytes, expected: int) -> None:
    # The API writes compact JSON, so a byte search finds the count without parsing every response.
    if status != 200 or f'"count":{expected}'.encode() not in body:
        raise RuntimeError(f"unexpected response {status}: {body[:200]!r}")


async def measure_api(
    api: subprocess.Popen[bytes],
    port: int,
    key: str,
    end: datetime,
    arguments: argparse.Namespace,
    week_rows: int,
) -> dict[str, list[Measurement]]:
    names = [name for name, _, _ in parameters()]
    start = end - timedelta(days=7)
    clients = arguments.clients
    results: dict[str, list[Measurement]] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, limits=limits, timeout=30
    )
    connections = [KeepAliveConnection(port, {"X-API-Key": key}) for _ in range(clients)]

    async def get_httpx(client: int, target: str) -> tuple[int, bytes]:
        response = await http.get(target)
        return response.status_code, response.content

    async def get_raw(client: int, target: str) -> tuple[int, bytes]:
        return await connections[client].get(target)

    get: Getter = get_httpx if arguments.client == "httpx" else get_raw

    async def week_hourly(client: int, index: int) -> None:
        params = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "bucket": "1h",
            "house_number": index % HOUSES + 1,
            "parameter": names[index % len(names)],
            "limit": 1000,
        }
        check_count(*await get(client, f"/readings?{urlencode(params)}"), week_rows)

    async def latest(client: int, index: int) -> None:
        check_count(
            *await get(client, f"/farms/{FARM}/houses/{index % HOUSES + 1}/readings/latest"), PARAMETER_COUNT
        )

    try:
        status, body = await get(0, f"/farms/{FARM}/houses/1/readings/latest")
        if status != 200 or json.loads(body)["count"] != PARAMETER_COUNT:
            raise RuntimeError(f"unexpected response {status}: {body[:200]!r}")
        for round_number in range(arguments.rounds):
            for name, call in (("7 days at 1h", week_hourly), ("latest readings", latest)):
                await run_concurrently(clients, arguments.warmup, call)
                server_started = process_tree_cpu_seconds(api.pid)
                measurement = await run_concurrently(clients, arguments.requests, call)
                measurement.server_cpu_seconds = process_tree_cpu_seconds(api.pid) - server_started
                results.setdefault(name, []).append(measurement)
                log(f"API round {round_number + 1}, {name}: {measurement.row()}")
    finally:
        await http.aclose()
        for connection in connections:
            await connection.close()
    log(f"the minimal client reopened {sum(c.reconnects for c in connections)} closed keep-alive connections")
    return results


async def measure_baseline(
    url: str, end: datetime, arguments: argparse.Namespace, week_rows: int
) -> dict[str, list[Measurement]]:
    names = [name for name, _, _ in parameters()]
    start = end - timedelta(days=7)
    clients = arguments.clients
    results: dict[str, list[Measurement]] = {}

    async def configure(connection: psycopg.AsyncConnection[Any]) -> None:
        # The same session settings as the API's pool, so both run the same plans.
        await configure_session(connection, statement_timeout_ms=0)

    async with AsyncConnectionPool(
        url, min_size=clients, max_size=clients, kwargs={"autocommit": True}, configure=configure
    ) as pool:
        await pool.wait()

        async def week_hourly(client: int, index: int) -> None:
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
                rows = await (await connection.execute(statement, values, binary=True)).fetchall()
            if len(rows) != week_rows:
                raise RuntimeError(f"expected {week_rows} rows, got {len(rows)}")

        async def latest(client: int, index: int) -> None:
            values = {"farm": FARM, "house": index % HOUSES + 1, "window": timedelta(minutes=60)}
            async with pool.connection() as connection:
                rows = await (await connection.execute(LATEST_READINGS_SQL, values, binary=True)).fetchall()
            if len(rows) != PARAMETER_COUNT:
                raise RuntimeError(f"expected {PARAMETER_COUNT} rows, got {len(rows)}")

        for round_number in range(arguments.rounds):
            for name, call in (("7 days at 1h", week_hourly), ("latest readings", latest)):
                await run_concurrently(clients, arguments.warmup, call)
                measurement = await run_concurrently(clients, arguments.requests, call)
                results.setdefault(name, []).append(measurement)
                log(f"psycopg round {round_number + 1}, {name}: {measurement.row()}")
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
    parser.add_argument("--rounds", type=int, default=2, help="Measurements of each query (default 2).")
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="Load generator: a minimal keep-alive HTTP/1.1 client (default) or httpx.AsyncClient.",
    )
    parser.add_argument(
        "--http", choices=("httptools", "h11"), default="httptools", help="uvicorn HTTP parser."
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="uvicorn event loop.")
    parser.add_argument(
        "--client-loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="Event loop of the load generator and the psycopg baseline.",
    )
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
        run = asyncio.run if arguments.client_loop == "asyncio" else uvloop.run
        api = start_api(url, port, arguments.api_workers, arguments.pool_size, arguments.http, arguments.loop)
        try:
            api_results = run(measure_api(api, port, key, end, arguments, week_rows))
        finally:
            stop(api)
        baseline = run(measure_baseline(url, end, arguments, week_rows))
    finally:
        if arguments.keep_database is None:
            with psycopg.connect(arguments.admin_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"readings: about {rows[0] if rows else 0:,}; clients: {arguments.clients}; "
        f"requests per query and round: {arguments.clients * arguments.requests}; "
        f"API workers: {arguments.api_workers}; uvicorn: {arguments.http}, {arguments.loop}; "
        f"load generator: {arguments.client}, {arguments.client_loop}"
    )
    print(
        "| query | load avg | API p50 | API p99 | API req/s | API CPU/req | client CPU/req "
        "| psycopg p50 | psycopg p99 | psycopg req/s | p99 ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for query, measurements in api_results.items():
        for measured, raw in zip(
            (m.row() for m in measurements), (m.row() for m in baseline[query]), strict=True
        ):
            print(
                f"| {query} | {measured['load']:.1f} | {measured['p50']:.1f} ms | {measured['p99']:.1f} ms "
                f"| {measured['rps']:.0f} | {measured['server_cpu_ms']:.2f} ms "
                f"| {measured['client_cpu_ms']:.2f} ms | {raw['p50']:.1f} ms | {raw['p99']:.1f} ms "
                f"| {raw['rps']:.0f} | {measured['p99'] / raw['p99']:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
