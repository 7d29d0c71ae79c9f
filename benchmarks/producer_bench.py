"""Producer benchmark: parse-and-publish cost per house scrape, and houses scraped per 5-minute cycle.

Part 1 (network waits excluded): the captured GetSiteControllersInfo and command-0 responses are
kept in memory as raw bytes. Each simulated house scrape decodes, parses and publishes its events to
the real broker through EventPublisher. The baseline, in the same run, produces the same messages
(same keys, same pre-serialized bytes) through a bare confluent-kafka producer with the same
settings. Both are measured in process CPU time, librdkafka threads included.

Part 2: one Scraper process scrapes many farms of 8 houses from a portal served by a separate process
on 127.0.0.1 (``--portal fake`` replays the captures, ``--portal simulator`` runs `farmstream
simulator`), publishing to the real broker; houses per 300 s = houses / cycle seconds * 300.

Run with the stack up: ``.venv/bin/python benchmarks/producer_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from confluent_kafka import Producer
from prometheus_client import CollectorRegistry

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "tests" / "producers"))

from fake_rotemnet import CAPTURES  # type: ignore[import-not-found]  # noqa: E402

from farmstream.stack.topics import create_topics, delete_topics  # noqa: E402
from producers.config import ScraperSettings  # noqa: E402
from producers.envelope import unwrap  # noqa: E402
from producers.metrics import ScraperMetrics  # noqa: E402
from producers.parser import ParseContext, build_command, build_site_info  # noqa: E402
from producers.publisher import EventPublisher, producer_config  # noqa: E402
from producers.scraper import Scraper  # noqa: E402
from producers.site_info import read_site_info  # noqa: E402
from producers.tables import read_command_data  # noqa: E402
from producers.units import METRIC  # noqa: E402
from schemas.events import DeadLetter, HouseStatus, Reading, ScrapeLog, readings_key  # noqa: E402
from schemas.topics import ALL_TOPICS, READINGS, topic_name  # noqa: E402


def _raw(name: str) -> bytes:
    return json.dumps(json.loads((CAPTURES / name).read_text(encoding="utf-8"))["response"]).encode()


class _Collector:
    """Keeps serialized messages, to replay them through the bare producer."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.messages: list[tuple[bytes, bytes]] = []

    def reading(self, event: Reading | HouseStatus) -> None:
        self.messages.append((readings_key(event.farm_id, event.house_number), event.to_bytes()))

    def scrape_log(self, event: ScrapeLog) -> None:
        return

    def dead_letter(self, event: DeadLetter) -> None:
        return

    def flush(self) -> int:
        return 0


def scrape_prefetched(
    publisher: EventPublisher | _Collector, farms: int, site_raw: bytes, command_raw: bytes
) -> int:
    """Parse and publish ``farms`` x 6 house scrapes from raw bytes; return the number of houses."""
    houses = 0
    fetched_at = datetime.now(UTC)
    for farm in range(farms):
        context = ParseContext(
            farm_id=f"bench-{farm}", timezone=ZoneInfo("America/Chicago"), fetched_at=fetched_at, units=METRIC
        )
        site = read_site_info(unwrap(site_raw, "GetSiteControllersInfo"))
        context = ParseContext(context.farm_id, context.timezone, fetched_at, METRIC, site.last_update)
        for site_house in build_site_info(site, context):
            data = read_command_data(unwrap(command_raw, "RNBL_GetCommandData"))
            result = build_command(data, command_id=0, house_number=site_house.house_number, context=context)
            result.merge(site_house)
            for reading in result.readings:
                publisher.reading(reading)
            publisher.reading(result.status(context))
            houses += 1
    return houses


def part_one(bootstrap: str, prefix: str, farms: int) -> dict[str, float]:
    site_raw = _raw("GetSiteControllersInfo.json")
    command_raw = _raw("RNBL_GetCommandData_cmd0_main.json")
    topic = topic_name(READINGS, prefix)

    collector = _Collector(topic)
    scrape_prefetched(collector, farms, site_raw, command_raw)
    payload_bytes = sum(len(value) for _, value in collector.messages)

    metrics = ScraperMetrics(CollectorRegistry())
    publisher = EventPublisher.connect(
        bootstrap, prefix=prefix, metrics=metrics, linger_ms=50, flush_timeout=120
    )
    cpu, wall = time.process_time(), time.perf_counter()
    houses = scrape_prefetched(publisher, farms, site_raw, command_raw)
    undelivered = publisher.flush()
    ours_cpu, ours_wall = time.process_time() - cpu, time.perf_counter() - wall

    bare = Producer(producer_config(bootstrap, 50))
    cpu, wall = time.process_time(), time.perf_counter()
    for key, value in collector.messages:
        while True:
            try:
                bare.produce(topic, value=value, key=key)
                break
            except BufferError:
                bare.poll(0.5)
        bare.poll(0)
    bare_undelivered = bare.flush(120)
    base_cpu, base_wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "houses": houses,
        "messages": len(collector.messages),
        "payload_mib": payload_bytes / 2**20,
        "ours_cpu_ms_per_house": 1000 * ours_cpu / houses,
        "ours_wall_s": ours_wall,
        "baseline_cpu_ms_per_house": 1000 * base_cpu / houses,
        "baseline_wall_s": base_wall,
        "cpu_ratio": ours_cpu / base_cpu,
        "undelivered": undelivered + bare_undelivered,
        "delivered": publisher.delivered,
    }


def _serve_fake(accounts: int, houses: int, ready: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from fake_rotemnet import Account, FakePortal  # type: ignore[import-not-found]

    password = "pw"  # noqa: S105 - accounts of a fake portal on 127.0.0.1
    fake = FakePortal({f"user{n}": Account(password=password, houses=houses) for n in range(accounts)})
    with fake:
        ready.put(fake.url)
        while True:
            time.sleep(3600)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_simulator(folder: Path, accounts: int) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `farmstream simulator` in its own process with ``accounts`` farms of 8 houses."""
    config = folder / "simulator.json"
    config.write_text(
        json.dumps(
            {
                "farms": [
                    {
                        "farm_id": f"bench-{n}",
                        "username": f"user{n}@example.com",
                        "password": f"secret-{n}",
                        "houses": 8,
                    }
                    for n in range(accounts)
                ]
            }
        )
    )
    farms_file = folder / "farms.json"
    process = subprocess.Popen(
        [
            str(REPOSITORY / ".venv" / "bin" / "farmstream"),
            "--log-level",
            "WARNING",
            "simulator",
            "--config",
            str(config),
            "--port",
            str(_free_port()),
            "--farms-file",
            str(farms_file),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not farms_file.exists() or not farms_file.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the simulator did not start: run `farmstream simulator` by hand to see why")
        time.sleep(0.5)
    return process, farms_file


def part_two(
    bootstrap: str, prefix: str, accounts: int, concurrency: int, cycles: int, portal: str
) -> dict[str, float]:
    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        if portal == "simulator":
            server, farms_file = _start_simulator(folder, accounts)
        else:
            fake = multiprocessing.Process(target=_serve_fake, args=(accounts, 8, ready), daemon=True)
            fake.start()
            farms_file = folder / "farms.json"
            farms_file.write_text(
                json.dumps(
                    {
                        "portal_url": ready.get(timeout=60),
                        "farms": [
                            {
                                "farm_id": f"bench-{n}",
                                "username": f"user{n}",
                                "password": "pw",
                                "timezone": "America/Chicago",
                            }
                            for n in range(accounts)
                        ],
                    }
                )
            )
        try:
            settings = ScraperSettings(  # type: ignore[call-arg]
                farms_file=farms_file,
                kafka_bootstrap=bootstrap,
                topic_prefix=prefix,
                max_concurrent_farms=concurrency,
                history_fetch_time="23:59",
                _env_file=None,
            )
            metrics = ScraperMetrics(CollectorRegistry())
            publisher = EventPublisher.connect(bootstrap, prefix=prefix, metrics=metrics, flush_timeout=120)
            scraper = Scraper(settings, publisher=publisher, metrics=metrics)
            scraper.run_cycle()  # warm-up: logins and unit settings
            durations, cpu_used = [], []
            for _ in range(cycles):
                cpu, started = time.process_time(), time.perf_counter()
                logs = scraper.run_cycle()
                durations.append(time.perf_counter() - started)
                cpu_used.append(time.process_time() - cpu)
            scraper.close()
        finally:
            if portal == "simulator":
                server.terminate()
                server.wait(timeout=30)
            else:
                fake.kill()
                fake.join()
    houses = sum(log.houses_total for log in logs)
    best = min(durations)
    return {
        "houses_per_cycle": houses,
        "cycle_seconds_min": best,
        "cycle_seconds_max": max(durations),
        "scraper_cpu_s_per_cycle": min(cpu_used),
        "houses_per_300s": houses / best * 300,
        "failed_farms": sum(log.outcome != "success" for log in logs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("FARMSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    parser.add_argument("--farms", type=int, default=200, help="Farms of 6 houses parsed in part 1.")
    parser.add_argument("--accounts", type=int, default=50, help="Fake accounts of 8 houses in part 2.")
    parser.add_argument("--concurrency", type=int, default=16, help="Farms scraped at once in part 2.")
    parser.add_argument("--cycles", type=int, default=3, help="Measured cycles in part 2.")
    parser.add_argument(
        "--portal",
        choices=("fake", "simulator"),
        default="fake",
        help="Part 2 portal: the capture-replaying fake or `farmstream simulator`, each in its own process.",
    )
    arguments = parser.parse_args()

    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    create_topics(arguments.bootstrap, prefix)
    try:
        one = part_one(arguments.bootstrap, prefix, arguments.farms)
        print("part 1: parse and publish, pre-fetched payloads")
        for key, value in one.items():
            print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
        two = part_two(
            arguments.bootstrap,
            prefix,
            arguments.accounts,
            arguments.concurrency,
            arguments.cycles,
            arguments.portal,
        )
        print(f"part 2: scrape cycles against a {arguments.portal} portal process on 127.0.0.1")
        for key, value in two.items():
            print(f"  {key}: {value:.2f}" if isinstance(value, float) else f"  {key}: {value}")
    finally:
        delete_topics(arguments.bootstrap, [topic_name(spec, prefix) for spec in ALL_TOPICS])
    return 0


if __name__ == "__main__":
    sys.exit(main())
