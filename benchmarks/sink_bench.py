"""Sink benchmark: readings written per second, as a ratio to ``psql \\copy`` of the same rows.

Every measurement loads the same generated readings (8 houses x 60 parameters at 5-minute steps)
into the ``readings`` table of a freshly migrated database on the stack's PostgreSQL. So the
indexes, the unique key and the rollup trigger behind readings_5m/1h/1d are the same each time:

- baseline: ``psql -c "\\copy readings (...) FROM 'file' CSV"`` of the rows, pre-rendered as CSV;
- writer: ``DatabaseWriter.write_batch`` (COPY into a staging table, then INSERT ... ON CONFLICT
  DO NOTHING) on batches of already decoded Reading events;
- decode+writer: the same, starting from the JSON bytes as they arrive from Kafka;
- kafka (with ``--kafka``): the sink service end to end, from records produced to a fresh topic
  until every offset is committed; with ``--no-overlap`` also with each batch's write finished
  before the next batch is consumed.

Run with the stack up: ``.venv/bin/python benchmarks/sink_bench.py [--rows 240000] [--kafka]``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition
from prometheus_client import CollectorRegistry
from psycopg import sql

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from farmstream.stack.topics import create_topics, delete_topics  # noqa: E402
from migrations import apply_migrations  # noqa: E402
from schemas.events import Reading, controller_id_for, readings_key  # noqa: E402
from schemas.parameters import PARAMETERS  # noqa: E402
from schemas.topics import ALL_TOPICS, READINGS, topic_name  # noqa: E402
from sinks.app import build_sink, connect  # noqa: E402
from sinks.batch import DatabaseWriter  # noqa: E402
from sinks.config import SinkSettings  # noqa: E402
from sinks.metrics import SinkMetrics  # noqa: E402
from sinks.records import DecodedRecord, SourceRecord, decode  # noqa: E402
from sinks.service import Batch  # noqa: E402
from sinks.writers import READING_COLUMNS, reading_row  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql://farmstream:farmstream@127.0.0.1:15432/farmstream"
START = datetime(2026, 6, 1, tzinfo=UTC)


def generate_readings(count: int) -> list[Reading]:
    """Return ``count`` readings of 8 houses x 60 parameters at 5-minute steps, values varying."""
    parameters = [parameter for parameter in PARAMETERS.values() if parameter.unit != "state"][:60]
    readings: list[Reading] = []
    step = 0
    while len(readings) < count:
        observed = START + timedelta(minutes=5 * step)
        for house in range(1, 9):
            controller = controller_id_for("bench-farm", house)
            for index, parameter in enumerate(parameters):
                value = 20.0 + (step % 97) * 0.1 + index * 0.01 + house
                readings.append(
                    Reading(
                        event_id=Reading.make_id(controller, parameter.name, "instant", observed),
                        farm_id="bench-farm",
                        house_number=house,
                        controller_id=controller,
                        parameter=parameter.name,
                        source_key=f"General.{parameter.name}",
                        source_command="RNBL_GetCommandData/0",
                        value=value,
                        unit=parameter.unit,
                        target=22.0 if parameter.signal == "temperature" else None,
                        growth_day=21,
                        observed_at=observed,
                        fetched_at=observed + timedelta(seconds=30),
                    )
                )
                if len(readings) == count:
                    return readings
        step += 1
    return readings


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create and migrate a database for one measurement, and drop it afterwards."""
    name = f"bench_sink_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            apply_migrations(connection)
        yield url
    finally:
        drop_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database, retrying while an autovacuum worker (not ours to terminate) is still in it."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    for attempt in range(30):
        try:
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(statement)
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == 29:
                raise
            time.sleep(1)


def count_readings(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM readings").fetchone()
    return int(row[0]) if row else 0


def measure_psql_copy(url: str, csv_path: Path, rows: int) -> float:
    """Return the seconds ``psql \\copy`` takes to load the CSV file."""
    command = f"\\copy readings ({', '.join(READING_COLUMNS)}) FROM '{csv_path}' WITH (FORMAT csv)"
    started = time.perf_counter()
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", command], check=True)
    elapsed = time.perf_counter() - started
    loaded = count_readings(url)
    if loaded != rows:
        raise RuntimeError(f"psql \\copy loaded {loaded} of {rows} rows")
    return elapsed


def measure_writer(url: str, records: Sequence[DecodedRecord], batch_size: int) -> float:
    """Return the seconds the sink's writer takes for the decoded records, in batches."""
    settings = SinkSettings(database_url=url, sink_write_mode="copy")
    writer = DatabaseWriter(lambda: connect(settings), "copy")
    writer.connection()
    started = time.perf_counter()
    for first in range(0, len(records), batch_size):
        writer.write_batch(records[first : first + batch_size])
    elapsed = time.perf_counter() - started
    writer.close()
    loaded = count_readings(url)
    if loaded != len(records):
        raise RuntimeError(f"the writer loaded {loaded} of {len(records)} rows")
    return elapsed


def measure_decode_and_writer(url: str, raw: Sequence[SourceRecord], batch_size: int) -> float:
    """Return the seconds to decode the JSON records and write them, in batches."""
    settings = SinkSettings(database_url=url, sink_write_mode="copy")
    writer = DatabaseWriter(lambda: connect(settings), "copy")
    writer.connection()
    started = time.perf_counter()
    for first in range(0, len(raw), batch_size):
        chunk = raw[first : first + batch_size]
        writer.write_batch([DecodedRecord(record, decode(record, "readings")) for record in chunk])
    elapsed = time.perf_counter() - started
    writer.close()
    loaded = count_readings(url)
    if loaded != len(raw):
        raise RuntimeError(f"decode+writer loaded {loaded} of {len(raw)} rows")
    return elapsed


def measure_kafka(
    url: str, bootstrap: str, raw: Sequence[SourceRecord], batch_size: int, overlap: bool = True
) -> float:
    """Return the seconds from sink start until every produced record is written and committed.

    With ``overlap`` false each batch's write is finished before the next batch is consumed, as
    the service worked before it wrote on a separate thread.
    """
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    create_topics(bootstrap, prefix)
    try:
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 1_000_000})
        topic = topic_name(READINGS, prefix)
        for record in raw:
            producer.produce(topic, value=record.value, key=record.key)
            producer.poll(0)
        if producer.flush(60) != 0:
            raise RuntimeError("not every benchmark record reached the broker")
        group = f"bench-sink-{uuid.uuid4().hex[:8]}"
        settings = SinkSettings(
            kafka_bootstrap=bootstrap,
            topic_prefix=prefix,
            database_url=url,
            sink_group_id=group,
            sink_batch_size=batch_size,
            sink_write_mode="copy",
            sink_metrics_port=0,
        )
        service = build_sink(settings, ("readings",), SinkMetrics(CollectorRegistry()))
        if not overlap:
            collect_batch = service.collect_batch

            def collect_after_write() -> Batch:
                service.finish_write()
                return collect_batch()

            service.collect_batch = collect_after_write  # type: ignore[method-assign]
        # One consumer, set up before the clock starts, reads the group's committed offsets. It
        # never subscribes, so it does not join the group.
        watcher = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
        partitions = [
            TopicPartition(topic, partition)
            for partition in watcher.list_topics(topic, timeout=10).topics[topic].partitions
        ]
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        try:
            started = time.perf_counter()
            thread.start()
            _wait(lambda: _committed(watcher, partitions) >= len(raw), timeout=600)
            elapsed = time.perf_counter() - started
        finally:
            watcher.close()
            stop.set()
            thread.join(timeout=60)
    finally:
        delete_topics(bootstrap, [topic_name(spec, prefix) for spec in ALL_TOPICS])
    loaded = count_readings(url)
    if loaded != len(raw):
        raise RuntimeError(f"the Kafka sink loaded {loaded} of {len(raw)} rows")
    return elapsed


def _committed(watcher: Consumer, partitions: list[TopicPartition]) -> int:
    offsets = watcher.committed(partitions, timeout=10)
    return sum(max(item.offset, 0) for item in offsets)


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"condition not met within {timeout} s")
        time.sleep(0.05)


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=240_000, help="Readings per measurement (default 240000)."
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=SinkSettings.model_fields["sink_batch_size"].default,
        help="Records per sink batch (default: the sink's default batch size).",
    )
    parser.add_argument("--repeat", type=int, default=3, help="Measurements of each path; the median counts.")
    parser.add_argument("--admin-url", default=os.environ.get("FARMSTREAM_DATABASE_URL", DEFAULT_ADMIN_URL))
    parser.add_argument(
        "--kafka", action="store_true", help="Also measure the sink end to end through Kafka."
    )
    parser.add_argument(
        "--no-overlap",
        action="store_true",
        help="With --kafka, also measure the sink with each write finished before the next batch.",
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("FARMSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    arguments = parser.parse_args()

    load_at_start = os.getloadavg()[0]
    readings = generate_readings(arguments.rows)
    raw = [
        SourceRecord("bench.readings", 0, offset, readings_key(r.farm_id, r.house_number), r.to_bytes())
        for offset, r in enumerate(readings)
    ]
    decoded = [DecodedRecord(record, reading) for record, reading in zip(raw, readings, strict=True)]
    # The input lists stay alive for the whole run. Frozen, they are not rescanned by every garbage
    # collection, which a sink process holding one batch at a time would not pay for either.
    gc.freeze()

    timings: dict[str, list[float]] = {"psql \\copy": [], "writer": [], "decode+writer": []}
    if arguments.kafka:
        timings["kafka sink"] = []
    if arguments.kafka and arguments.no_overlap:
        timings["kafka, no overlap"] = []
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "readings.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            for reading in readings:
                out.writerow([_csv_value(value) for value in reading_row(reading)])
        for _ in range(arguments.repeat):
            with fresh_database(arguments.admin_url) as url:
                timings["psql \\copy"].append(measure_psql_copy(url, csv_path, len(readings)))
            with fresh_database(arguments.admin_url) as url:
                timings["writer"].append(measure_writer(url, decoded, arguments.batch_size))
            with fresh_database(arguments.admin_url) as url:
                timings["decode+writer"].append(measure_decode_and_writer(url, raw, arguments.batch_size))
            if arguments.kafka:
                with fresh_database(arguments.admin_url) as url:
                    timings["kafka sink"].append(
                        measure_kafka(url, arguments.bootstrap, raw, arguments.batch_size)
                    )
            if "kafka, no overlap" in timings:
                with fresh_database(arguments.admin_url) as url:
                    timings["kafka, no overlap"].append(
                        measure_kafka(url, arguments.bootstrap, raw, arguments.batch_size, overlap=False)
                    )

    baseline = len(readings) / statistics.median(timings["psql \\copy"])
    machine = f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"machine: {machine}, Python {platform.python_version()}")
    # Other processes on the machine slow every path, and the 1-minute load average shows how much.
    print(f"load average (1 min): {load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    size = arguments.batch_size
    print(f"rows per measurement: {len(readings)}, batch size {size}, repeats {arguments.repeat}")
    for path, seconds in timings.items():
        rate = len(readings) / statistics.median(seconds)
        runs = ", ".join(f"{value:.2f}" for value in seconds)
        ratio = rate / baseline
        # Each repeat measures every path back to back, so a per-repeat ratio shares most of the
        # machine's load with its baseline.
        paired = statistics.median(
            base / value for base, value in zip(timings["psql \\copy"], seconds, strict=True)
        )
        print(
            f"{path:>17}: {rate:>9.0f} rows/s (median of {runs} s), ratio to psql \\copy {ratio:.2f},"
            f" median of per-repeat ratios {paired:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
