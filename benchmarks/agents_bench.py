"""Benchmark of the stream-processor agents: throughput against a raw consumer, and detector memory.

Needs the stack's broker (``farmstream stack up``). It creates the topics under a unique prefix,
produces readings for many sensors, then in the same run measures

1. a plain aiokafka consumer reading the whole readings topic (the raw baseline), before and after
   the agents,
2. one ``farmstream agents`` worker processing the same topic (rate between its first and its
   last processed event, read from its /metrics endpoint), as a ratio to the mean raw rate,
3. the processing core alone, without Kafka, on readings already decoded, and the parse plus the
   core (``PartitionWorker.handle_records`` on the encoded messages, in chunks of 1,000),
4. the memory of 10,000 sensors' detector state with full baseline windows (RSS growth and
   pickled size).

Usage: .venv/bin/python benchmarks/agents_bench.py [--readings 200000] [--sensors 10000] [--memory-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiokafka import AIOKafkaConsumer  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

from farmstream.stack.topics import create_topics, delete_topics  # noqa: E402
from schemas.events import Reading, controller_id_for, readings_key  # noqa: E402
from schemas.topics import ALL_TOPICS, topic_name  # noqa: E402
from stream_processors.core import Processor  # noqa: E402
from stream_processors.detectors import RobustLevelDetector  # noqa: E402
from stream_processors.worker import InputMessage, PartitionWorker, TopicNames  # noqa: E402

BOOTSTRAP = os.environ.get("FARMSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
PARAMETERS = [f"temperature.sensor_{n}" for n in range(1, 9)] + ["humidity.inside", "static_pressure"]
START = datetime(2026, 3, 1, tzinfo=UTC)


def build_readings(count: int, houses: int) -> list[Reading]:
    readings = []
    step = 0
    while len(readings) < count:
        at = START + step * timedelta(minutes=5)
        for house in range(houses):
            farm, number = f"farm-{house // 8}", house % 8 + 1
            controller = controller_id_for(farm, number)
            for index, parameter in enumerate(PARAMETERS):
                value = 25.0 + 0.1 * ((step * 7 + index + house) % 11)
                unit = (
                    "%"
                    if parameter.startswith("humidity")
                    else ("Pa" if parameter == "static_pressure" else "degC")
                )
                readings.append(
                    Reading(
                        event_id=Reading.make_id(controller, parameter, "instant", at),
                        farm_id=farm,
                        house_number=number,
                        controller_id=controller,
                        parameter=parameter,
                        source_key=parameter,
                        source_command="bench",
                        value=value,
                        unit=unit,  # type: ignore[arg-type]
                        observed_at=at,
                        fetched_at=at,
                    )
                )
        step += 1
    return readings[:count]


def produce(topic: str, readings: list[Reading]) -> None:
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "linger.ms": 50, "batch.size": 1_000_000})
    for reading in readings:
        while True:
            try:
                producer.produce(
                    topic, key=readings_key(reading.farm_id, reading.house_number), value=reading.to_bytes()
                )
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(120)


async def raw_consume(topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=f"bench-raw-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen = 0
    started = None
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10000)
            for records in batches.values():
                if records and started is None:
                    started = time.perf_counter()
                seen += len(records)
    finally:
        await consumer.stop()
    assert started is not None
    return count / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def metric_sum(port: int, name: str) -> float:
    """Return the sum of a metric's samples over its labels on the agents' /metrics page."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith((f"{name} ", f"{name}{{")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def processed(port: int) -> float:
    return metric_sum(port, "farmstream_agents_events_processed_total")


def agents_rate(prefix: str, count: int, data_dir: Path) -> float:
    port = free_port()
    environment = {
        **os.environ,
        "FARMSTREAM_TOPIC_PREFIX": prefix,
        "FARMSTREAM_AGENTS_APP_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "FARMSTREAM_AGENTS_METRICS_PORT": str(port),
        "FARMSTREAM_AGENTS_DATA_DIR": str(data_dir),
        "FARMSTREAM_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([str(ROOT / ".venv/bin/farmstream"), "agents"], env=environment, cwd=ROOT)
    try:
        first_time, first_count = None, 0.0
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            done = processed(port)
            now = time.perf_counter()
            if done > 0 and first_time is None:
                first_time, first_count = now, done
            if done >= count:
                assert first_time is not None
                checkpoints = metric_sum(port, "farmstream_agents_checkpoints_total")
                seconds = metric_sum(port, "farmstream_agents_checkpoint_seconds_sum")
                print(f"agents_checkpoints={checkpoints:.0f} agents_checkpoint_seconds={seconds:.2f}")
                return (done - first_count) / (now - first_time)
            time.sleep(0.2)
        raise TimeoutError(f"the agents processed {processed(port)} of {count} readings in 900 s")
    finally:
        process.terminate()
        process.wait(60)


def core_rate(readings: list[Reading]) -> float:
    processor = Processor()
    started = time.perf_counter()
    for reading in readings:
        processor.process(reading)
    return len(readings) / (time.perf_counter() - started)


def worker_rate(readings: list[Reading]) -> float:
    """Return the rate of parse plus core, in chunks as the agents get them, without Kafka."""
    worker = PartitionWorker(TopicNames("r", "s", "a", "p", "d", "c"))
    records = [InputMessage(offset, reading.to_bytes()) for offset, reading in enumerate(readings)]
    started = time.perf_counter()
    for start in range(0, len(records), 1000):
        worker.handle_records("r", 0, records[start : start + 1000])
    return len(records) / (time.perf_counter() - started)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def detector_memory(sensors: int, points: int) -> tuple[float, float]:
    before = rss_mb()
    detectors = [RobustLevelDetector(min_spread=0.2) for _ in range(sensors)]
    for index, detector in enumerate(detectors):
        for step in range(points):
            detector.update(25.0 + 0.1 * ((step * 7 + index) % 11), step * 300.0)
    grown = rss_mb() - before
    pickled = len(pickle.dumps(detectors)) / 1e6
    return grown, pickled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200_000, help="Readings produced and consumed.")
    parser.add_argument("--sensors", type=int, default=10_000, help="Sensors in the memory measurement.")
    parser.add_argument("--memory-only", action="store_true", help="Measure detector memory only.")
    arguments = parser.parse_args()

    # Memory first, in a fresh process, so freed buffers of the other steps do not hide growth.
    grown, pickled = detector_memory(arguments.sensors, 600)
    print(f"detector_state_rss_mb={grown:.1f} sensors={arguments.sensors} pickled_mb={pickled:.1f}")
    if arguments.memory_only:
        return

    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    create_topics(BOOTSTRAP, prefix)
    topic = f"{prefix}readings"
    try:
        readings = build_readings(arguments.readings, houses=200)
        produce(topic, readings)
        # The raw consumer reads the topic before and after the agents, and the ratio takes the mean
        # of both rates, so a slow spell of a shared machine weighs on both sides alike.
        raw_before = asyncio.run(raw_consume(topic, len(readings)))
        print(f"raw_aiokafka_readings_per_second={raw_before:.0f}")
        agents = agents_rate(prefix, len(readings), ROOT / ".stack" / "bench-agents")
        print(f"agents_readings_per_second={agents:.0f}")
        raw_after = asyncio.run(raw_consume(topic, len(readings)))
        print(f"raw_aiokafka_after_readings_per_second={raw_after:.0f}")
        print(f"agents_to_raw_ratio={2 * agents / (raw_before + raw_after):.3f}")
        print(f"core_readings_per_second={core_rate(readings):.0f}")
        print(f"parse_and_core_readings_per_second={worker_rate(readings):.0f}")
    finally:
        delete_topics(
            BOOTSTRAP, [topic_name(spec, prefix) for spec in ALL_TOPICS] + [f"{prefix}agents-checkpoints"]
        )


if __name__ == "__main__":
    main()
