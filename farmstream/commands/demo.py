"""`farmstream demo`: run the whole pipeline on this machine and show what it does.

It starts the local stack (unless it is already up) and the portal simulator: several farms, scheduled
faults in two houses, and a house whose temperature probe replays a recorded real series. Then it starts
the scraper, the stream agents, the sink, the alert notifier with a local webhook receiver and the REST
API, each as its own ``farmstream`` process. With portal credentials in the environment
(FARMSTREAM_FARMS_FILE or FARMSTREAM_PORTAL_USERNAME) it scrapes the real portal instead of starting the
simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaError

from farmstream.cli import CommandError
from farmstream.config import REPOSITORY_ROOT, StackSettings
from farmstream.stack import kafka, postgres
from farmstream.stack.config import TopicSettings
from farmstream.stack.processes import LOOPBACK, port_is_open, stack_lock
from farmstream.stack.topics import create_topics
from farmstream.supervisor import ServiceSpec, Supervisor
from schemas.topics import ALERTS, SCRAPE_LOG, topic_name
from simulator.config import default_farms

# Three of the simulator's default accounts: 22 houses, one of them in °F, inWC, lb and gallons.
DEMO_FARMS = ("farm-1", "farm-2", "farm-us")
NAB_SERIES = REPOSITORY_ROOT.parent / "shared" / "data" / "nab" / "machine_temperature_system_failure.csv"


def _port(variable: str, default: int) -> int:
    value = os.environ.get(variable, str(default))
    if not value.isdigit():
        raise CommandError(f"invalid {variable} {value!r}: set it to a port number")
    return int(value)


# The services read the same variables, so overriding one moves both the service and the demo's banner.
SIMULATOR_PORT = _port("FARMSTREAM_SIMULATOR_PORT", 8800)
API_PORT = _port("FARMSTREAM_API_PORT", 8000)
METRICS_PORTS = {
    "scraper": _port("FARMSTREAM_SCRAPER_METRICS_PORT", 9101),
    "agents": _port("FARMSTREAM_AGENTS_METRICS_PORT", 9102),
    "sink": _port("FARMSTREAM_SINK_METRICS_PORT", 9103),
    "notifier": _port("FARMSTREAM_NOTIFIER_METRICS_PORT", 9104),
}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="Run the whole pipeline on this machine and show its progress.",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=0.75,
        help="Real seconds between scrape cycles, each one simulated 5-minute step (default 0.75).",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="Stop by itself after this many real seconds (default: run until Ctrl-C).",
    )
    parser.add_argument("--seed", type=int, default=7, help="Seed of the simulator (default 7).")
    parser.add_argument(
        "--replay-start-row",
        type=int,
        default=1800,
        help="First row of the replayed series, so its first failure comes within minutes (default 1800).",
    )
    parser.add_argument("--webhook-port", type=int, default=8900, help="Port of the demo's webhook receiver.")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="Folder for the demo's files and service logs (default <stack dir>/demo).",
    )
    parser.set_defaults(func=_run)


@dataclass
class DemoCounters:
    """Counts shown on the progress line, updated by the watcher threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cycles: int = 0
    last_cycle_outcome: str = ""
    simulated_time: str = ""
    alerts_opened: int = 0
    alerts_resolved: int = 0
    open_alerts: set[str] = field(default_factory=set)
    webhook_deliveries: int = 0
    replay_alerts: int = 0
    fault_alerts: int = 0


class _WebhookHandler(BaseHTTPRequestHandler):
    counters: DemoCounters
    log_path: Path

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with self.counters.lock:
            self.counters.webhook_deliveries += 1
        with open(self.log_path, "ab") as log:
            log.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _start_webhook_receiver(port: int, counters: DemoCounters, log_path: Path) -> ThreadingHTTPServer:
    handler = type("DemoWebhookHandler", (_WebhookHandler,), {"counters": counters, "log_path": log_path})
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    threading.Thread(target=server.serve_forever, name="demo-webhook", daemon=True).start()
    return server


def _require_free_ports(ports: dict[str, int]) -> None:
    busy = [f"{name} {port}" for name, port in ports.items() if port_is_open(port)]
    if busy:
        raise CommandError(
            "ports already in use on 127.0.0.1: " + ", ".join(busy) + ". Stop whatever serves them "
            "(another demo or farmstream service) and run the demo again."
        )


def _ensure_stack(settings: StackSettings) -> bool:
    """Start the stack components that are down and return whether this call started any."""
    started_any = False
    with stack_lock(settings.stack_dir):
        for component in (postgres, kafka):
            if not component.status(settings).running:
                print(f"starting {component.__name__.rsplit('.', 1)[-1]} ...", flush=True)
                component.start(settings)
                started_any = True
        topic_settings = TopicSettings()
        create_topics(f"{LOOPBACK}:{settings.kafka_port}", topic_settings.topic_prefix)
    return started_any


def _stop_stack(settings: StackSettings) -> None:
    with stack_lock(settings.stack_dir):
        kafka.stop(settings)
        postgres.stop(settings)


def _simulator_config(seed: int, start: datetime, replay_start_row: int) -> dict[str, Any]:
    """Return the simulator configuration of the demo: default farms, two faults and one replayed probe."""

    def at(hours: float) -> str:
        return (start + timedelta(hours=hours)).isoformat()

    farms = [asdict(farm) for farm in default_farms() if farm.farm_id in DEMO_FARMS]
    config: dict[str, Any] = {
        "seed": seed,
        "start": start.isoformat(),
        "farms": farms,
        "faults": [
            {
                "fault_id": "demo-probe-short",
                "kind": "sensor_short",
                "farm_id": "farm-2",
                "house": 3,
                "target": "Temperature_Sensor_4",
                "start": at(2),
                "end": at(8),
            },
            {
                "fault_id": "demo-fan-failure",
                "kind": "fan_failure",
                "farm_id": "farm-1",
                "house": 4,
                "start": at(4),
                "end": at(16),
            },
        ],
    }
    if NAB_SERIES.exists():
        config["replay"] = {
            "csv_path": str(NAB_SERIES),
            "farm_id": "farm-1",
            "house": 2,
            "sensor": "Temperature_Sensor_1",
            "start_row": replay_start_row,
        }
    return config


def _notifier_config(webhook_port: int) -> dict[str, Any]:
    return {
        "channels": {"demo-webhook": {"type": "webhook", "url": f"http://{LOOPBACK}:{webhook_port}/alerts"}},
        "rules": [
            {
                "name": "everything-to-demo-webhook",
                "farms": "*",
                "min_severity": "info",
                "alert_rules": "*",
                "states": ["open", "reminder", "resolved"],
                "channels": ["demo-webhook"],
            }
        ],
        "retry": {
            "max_attempts": 5,
            "initial_delay_seconds": 1,
            "max_delay_seconds": 10,
            "max_total_seconds": 60,
        },
    }


def _uses_real_portal() -> bool:
    return bool(os.environ.get("FARMSTREAM_FARMS_FILE") or os.environ.get("FARMSTREAM_PORTAL_USERNAME"))


def _watch_topics(bootstrap: str, prefix: str, counters: DemoCounters, stop: threading.Event) -> None:
    """Print each alert as it opens or resolves and count scrape cycles, from the topics themselves."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"farmstream-demo-{uuid.uuid4()}",
            "auto.offset.reset": "latest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic_name(ALERTS, prefix), topic_name(SCRAPE_LOG, prefix)])
    try:
        while not stop.is_set():
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    print(f"  (topic watcher: {error})", flush=True)
                continue
            try:
                event = json.loads(message.value() or b"")
            except ValueError:
                continue
            if event.get("kind") == "scrape_log":
                with counters.lock:
                    counters.cycles += 1
                    counters.last_cycle_outcome = str(event.get("outcome"))
            elif event.get("kind") == "alert":
                _show_alert(event, counters)
    finally:
        consumer.close()


def _show_alert(event: dict[str, Any], counters: DemoCounters) -> None:
    state = event.get("state")
    where = f"{event.get('farm_id')} house {event.get('house_number') or '-'}"
    with counters.lock:
        if state == "open":
            counters.alerts_opened += 1
            counters.open_alerts.add(str(event.get("alert_id")))
            if event.get("farm_id") == "farm-1" and event.get("house_number") == 2:
                counters.replay_alerts += 1
            if (event.get("farm_id"), event.get("house_number")) in {("farm-2", 3), ("farm-1", 4)}:
                counters.fault_alerts += 1
        elif state == "resolved":
            counters.alerts_resolved += 1
            counters.open_alerts.discard(str(event.get("alert_id")))
    if state in {"open", "resolved"}:
        print(
            f"  ALERT {state:<8} {event.get('severity'):<8} {where:<18} "
            f"{event.get('rule')}: {event.get('title')}  [{event.get('event_time')}]",
            flush=True,
        )


def _database_counts(database_url: str) -> tuple[int, int] | None:
    try:
        with psycopg.connect(database_url, connect_timeout=3) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM alerts)"
            ).fetchone()
    except psycopg.Error:
        return None
    return (int(row[0]), int(row[1])) if row else None


def _next_simulated_start(work_dir: Path) -> datetime:
    """Return where this run's simulated clock starts: now, or after the time an earlier run reached.

    The accelerated clock runs ahead of real time. Starting a second run at a time an earlier run already
    covered would repeat its event times: the sink would keep the old rows and the agents would skip the
    events as already processed. So each run continues the timeline after the last one.
    """
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=now.minute % 5)
    state_file = work_dir / "last-simulated-time"
    if state_file.exists():
        try:
            reached = datetime.fromisoformat(state_file.read_text().strip())
        except ValueError:
            reached = start
        if reached.tzinfo is not None and reached + timedelta(hours=1) > start:
            later = reached + timedelta(hours=1)
            start = later.replace(second=0, microsecond=0) - timedelta(minutes=later.minute % 5)
    return start


def _record_simulated_time(work_dir: Path, simulated_time: str) -> None:
    try:
        reached = datetime.fromisoformat(simulated_time)
    except ValueError:
        return
    if reached.tzinfo is None:
        return
    (work_dir / "last-simulated-time").write_text(reached.isoformat())


def _simulated_clock() -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{SIMULATOR_PORT}/_sim/clock", timeout=2) as response:
            clock = json.load(response)
    except (OSError, ValueError):
        return "?"
    return str(clock.get("simulated_time", "?"))


def _run(arguments: argparse.Namespace) -> int:
    settings = StackSettings()
    work_dir: Path = arguments.work_dir or settings.stack_dir / "demo"
    log_dir = work_dir / "logs"
    work_dir.mkdir(parents=True, exist_ok=True)
    real_portal = _uses_real_portal()

    ports = {"API": API_PORT, "webhook receiver": arguments.webhook_port, **METRICS_PORTS}
    if not real_portal:
        ports["simulator"] = SIMULATOR_PORT
    _require_free_ports(ports)

    started_stack = _ensure_stack(settings)
    bootstrap = f"{LOOPBACK}:{settings.kafka_port}"
    prefix = TopicSettings().topic_prefix
    database_url = os.environ.get(
        "FARMSTREAM_DATABASE_URL",
        f"postgresql://farmstream:farmstream@{LOOPBACK}:{settings.postgres_port}/farmstream",
    )
    environment = {
        "FARMSTREAM_KAFKA_BOOTSTRAP": bootstrap,
        "FARMSTREAM_DATABASE_URL": database_url,
        "FARMSTREAM_TOPIC_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    }

    counters = DemoCounters()
    receiver = _start_webhook_receiver(
        arguments.webhook_port, counters, work_dir / "webhook-deliveries.jsonl"
    )
    notifier_config = work_dir / "notifier.json"
    notifier_config.write_text(json.dumps(_notifier_config(arguments.webhook_port), indent=2))

    supervisor = Supervisor(log_dir, {**os.environ, **environment})
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous_handlers = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        scrape_environment: dict[str, str] = {}
        if not real_portal:
            start = _next_simulated_start(work_dir)
            simulator_file = work_dir / "simulator.json"
            simulator_file.write_text(
                json.dumps(_simulator_config(arguments.seed, start, arguments.replay_start_row), indent=2)
            )
            farms_file = work_dir / "farms.json"
            farms_file.unlink(missing_ok=True)
            supervisor.start(
                ServiceSpec(
                    "simulator",
                    [
                        "simulator",
                        "--port",
                        str(SIMULATOR_PORT),
                        "--config",
                        str(simulator_file),
                        "--on-demand",
                        "--farms-file",
                        str(farms_file),
                        "--truth-file",
                        str(work_dir / "ground-truth.json"),
                    ],
                )
            )
            _wait_for(
                lambda: farms_file.exists() and port_is_open(SIMULATOR_PORT), 60, "the simulator", supervisor
            )
            scrape_environment = {
                "FARMSTREAM_FARMS_FILE": str(farms_file),
                "FARMSTREAM_SCRAPE_INTERVAL_SECONDS": str(arguments.step_seconds),
                # On an accelerated clock every cycle is a new simulated step, so history is fetched at start.
                "FARMSTREAM_HISTORY_FETCH_TIME": "00:00",
            }

        supervisor.start(ServiceSpec("sink", ["sink"]))
        supervisor.start(ServiceSpec("agents", ["agents"]))
        supervisor.start(ServiceSpec("notifier", ["notifier", "--config", str(notifier_config)]))
        supervisor.start(ServiceSpec("api", ["api"]))
        supervisor.start(ServiceSpec("scraper", ["scrape"], scrape_environment))

        watcher = threading.Thread(
            target=_watch_topics, args=(bootstrap, prefix, counters, stop), name="demo-topics", daemon=True
        )
        watcher.start()
        _print_banner(log_dir, real_portal, arguments.webhook_port)
        _progress_loop(arguments, work_dir, supervisor, counters, database_url, stop, real_portal)
    finally:
        print("\nstopping the services ...", flush=True)
        stop.set()
        supervisor.stop()
        receiver.shutdown()
        receiver.server_close()
        if started_stack:
            print("stopping the local stack this demo started ...", flush=True)
            _stop_stack(settings)
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    _print_summary(counters, work_dir)
    return 0


def _wait_for(condition: Any, timeout: float, what: str, supervisor: Supervisor) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for service in supervisor.exited():
            raise CommandError(
                f"{service.spec.name} exited with status {service.process.returncode}: see {service.log_path}"
            )
        if time.monotonic() > deadline:
            raise CommandError(
                f"{what} did not start within {timeout:.0f} s: see the logs in {supervisor.log_dir}"
            )
        time.sleep(0.2)


def _print_banner(log_dir: Path, real_portal: bool, webhook_port: int) -> None:
    source = "the real portal (credentials from the environment)" if real_portal else "the portal simulator"
    metrics = "  ".join(
        f"{name} :{port}/metrics" for name, port in {**METRICS_PORTS, "api": API_PORT}.items()
    )
    print(
        f"""
farmstream demo: scraping {source}
  REST API        http://{LOOPBACK}:{API_PORT}/docs   (data needs a key: farmstream apikey create)
  readiness       http://{LOOPBACK}:{API_PORT}/readyz
  metrics         {metrics}
  webhook         http://{LOOPBACK}:{webhook_port}/alerts receives every alert the notifier delivers
  service logs    {log_dir}
Press Ctrl-C to stop everything this demo started.
""",
        flush=True,
    )


def _progress_loop(
    arguments: argparse.Namespace,
    work_dir: Path,
    supervisor: Supervisor,
    counters: DemoCounters,
    database_url: str,
    stop: threading.Event,
    real_portal: bool,
) -> None:
    started = time.monotonic()
    previous_rows: int | None = None
    previous_time = started
    while not stop.wait(5.0):
        for service in supervisor.exited():
            raise CommandError(
                f"{service.spec.name} exited with status {service.process.returncode}: see {service.log_path}"
            )
        counts = _database_counts(database_url)
        now = time.monotonic()
        rate = ""
        if counts is not None:
            if previous_rows is not None:
                rate = f" ({(counts[0] - previous_rows) / (now - previous_time):,.0f}/s)"
            previous_rows, previous_time = counts[0], now
        rows = "?" if counts is None else f"{counts[0]:,}"
        clock = ""
        if not real_portal:
            simulated_time = _simulated_clock()
            _record_simulated_time(work_dir, simulated_time)
            clock = f"sim {simulated_time[:16]}  "
        with counters.lock:
            line = (
                f"{clock}cycles={counters.cycles} readings in db={rows}{rate} "
                f"alerts opened={counters.alerts_opened} open now={len(counters.open_alerts)} "
                f"resolved={counters.alerts_resolved} webhook deliveries={counters.webhook_deliveries}"
            )
        print(line, flush=True)
        if arguments.duration is not None and now - started >= arguments.duration:
            return


def _print_summary(counters: DemoCounters, work_dir: Path) -> None:
    print(
        f"demo finished: {counters.cycles} scrape cycles, {counters.alerts_opened} alerts opened "
        f"({counters.fault_alerts} in the houses with an injected fault, "
        f"{counters.replay_alerts} on the replayed series), "
        f"{counters.webhook_deliveries} webhook deliveries. Files: {work_dir}",
        flush=True,
    )
