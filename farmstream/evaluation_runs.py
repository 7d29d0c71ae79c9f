"""Run the real pipeline for an evaluation: portal simulator, scraper, Kafka and an agents worker.

The simulator and the scraper run in this process, on the simulator's on-demand clock: one scrape
cycle per simulated 5-minute step, as fast as the machine allows. The scraper's own clock follows the
simulated time, so scrape logs and readings share one timeline. The agents run as a ``farmstream
agents`` subprocess on topics under a fresh prefix. Everything started here is stopped and the topics
are deleted on exit, Ctrl-C included.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from confluent_kafka import KafkaException
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from farmstream.stack.topics import create_topics, delete_topics, list_topics
from farmstream.supervisor import ServiceSpec, Supervisor
from producers.config import ScraperSettings
from producers.metrics import ScraperMetrics
from producers.publisher import EventPublisher
from producers.scraper import Scraper
from schemas.events import Alert, DeadLetter, FailurePrediction, HouseStatus, Reading, ScrapeLog
from schemas.topics import ALERTS, PREDICTIONS, READINGS, SCRAPE_LOG, topic_name
from simulator.config import STEP, SimulatorConfig
from simulator.server import RunningSimulator
from simulator.server import start as start_simulator
from stream_processors import kafka_io

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
FLUSH_EVERY_CYCLES = 50
PROGRESS_EVERY_SECONDS = 10.0
STALL_TIMEOUT_SECONDS = 300.0
# Counters whose sum is the number of input messages the agents worker has handled.
_HANDLED_METRICS = (
    "farmstream_agents_events_processed",
    "farmstream_agents_events_skipped",
    "farmstream_agents_dead_letters",
)


class EvaluationRunError(RuntimeError):
    """A pipeline run that could not start or finish. The message names the part that failed."""


@dataclass
class RunOutput:
    """Outputs of a pipeline run: alert transitions, predictions and the simulator's ground truth."""

    alerts: list[Alert]
    predictions: list[FailurePrediction]
    ground_truth: dict[str, Any]
    steps: int
    input_messages: int
    scrape_seconds: float
    total_seconds: float
    prefix: str
    work_dir: Path


@dataclass
class _Progress:
    stream: TextIO
    total_steps: int
    started: float = field(default_factory=time.monotonic)
    last_print: float = 0.0

    def show(self, done: int, handled: int | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_print < PROGRESS_EVERY_SECONDS:
            return
        self.last_print = now
        elapsed = max(now - self.started, 1e-9)
        agents = "" if handled is None else f" agents_handled={handled:,}"
        print(
            f"rows {done:,}/{self.total_steps:,} ({done / elapsed:,.1f}/s, {elapsed:,.0f} s){agents}",
            file=self.stream,
            flush=True,
        )


def free_port() -> int:
    """Return a TCP port on the loopback address that is free right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class AgentsWorker:
    """Topics under a fresh prefix and one ``farmstream agents`` subprocess on them."""

    def __init__(self, bootstrap: str, work_dir: Path, checkpoint_interval_seconds: float = 5.0) -> None:
        self.bootstrap = bootstrap
        self.prefix = f"eval-{uuid.uuid4().hex[:12]}."
        self.app_id = f"{self.prefix}agents"
        self.work_dir = work_dir
        self.metrics_port = free_port()
        self.supervisor = Supervisor(work_dir / "logs")
        self.environment = {
            "FARMSTREAM_KAFKA_BOOTSTRAP": bootstrap,
            "FARMSTREAM_TOPIC_PREFIX": self.prefix,
            "FARMSTREAM_AGENTS_APP_ID": self.app_id,
            "FARMSTREAM_AGENTS_METRICS_PORT": str(self.metrics_port),
            "FARMSTREAM_AGENTS_DATA_DIR": str(work_dir / "agents-data"),
            "FARMSTREAM_CHECKPOINT_INTERVAL_SECONDS": str(checkpoint_interval_seconds),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> None:
        """Create the topics and start the worker, and return once its metrics page responds."""
        try:
            create_topics(self.bootstrap, self.prefix)
        except (KafkaException, RuntimeError, OSError) as error:
            raise EvaluationRunError(
                f"cannot create topics under {self.prefix} on {self.bootstrap}: {error}; "
                "check that `farmstream stack status` shows kafka up"
            ) from None
        self.supervisor.start(ServiceSpec("agents", ["agents"], self.environment))
        deadline = time.monotonic() + 120
        while self.handled() is None:
            self._check_alive()
            if time.monotonic() > deadline:
                raise EvaluationRunError(
                    f"the agents worker did not serve metrics within 120 s: see {self.log_path}"
                )
            time.sleep(0.5)

    @property
    def log_path(self) -> Path:
        return self.supervisor.log_dir / "agents.log"

    def _check_alive(self) -> None:
        for service in self.supervisor.exited():
            raise EvaluationRunError(
                f"the agents worker exited with status {service.process.returncode}: see {service.log_path}"
            )

    def handled(self) -> int | None:
        """Return the input messages the worker processed, skipped or dead-lettered (None: no response)."""
        url = f"http://{LOOPBACK}:{self.metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except (OSError, ValueError):
            return None
        total = 0.0
        for family in text_string_to_metric_families(text):
            if family.name in _HANDLED_METRICS:
                total += sum(sample.value for sample in family.samples if sample.name.endswith("_total"))
        return int(total)

    def input_messages(self) -> int:
        """Return the number of messages on the worker's input topics."""
        topics = [topic_name(READINGS, self.prefix), topic_name(SCRAPE_LOG, self.prefix)]
        ends = kafka_io.end_offsets(self.bootstrap, topics)
        return sum(sum(partitions.values()) for partitions in ends.values())

    def wait_for(self, messages: int) -> None:
        """Wait until the worker has handled at least ``messages`` input messages."""
        deadline = time.monotonic() + STALL_TIMEOUT_SECONDS
        while (self.handled() or 0) < messages:
            self._check_alive()
            if time.monotonic() > deadline:
                raise EvaluationRunError(
                    f"the agents worker did not reach {messages} input messages within "
                    f"{STALL_TIMEOUT_SECONDS:.0f} s: see {self.log_path}"
                )
            time.sleep(0.01)

    def wait_until_caught_up(self, progress: _Progress, steps: int) -> int:
        """Wait until the worker has handled every input message, and return their number."""
        total = self.input_messages()
        best, best_at = -1, time.monotonic()
        while True:
            self._check_alive()
            handled = self.handled() or 0
            progress.show(steps, handled)
            if handled >= total:
                return total
            if handled > best:
                best, best_at = handled, time.monotonic()
            elif time.monotonic() - best_at > STALL_TIMEOUT_SECONDS:
                raise EvaluationRunError(
                    f"the agents worker stalled at {handled} of {total} input messages: see {self.log_path}"
                )
            time.sleep(1.0)

    def collect(self) -> tuple[list[Alert], list[FailurePrediction]]:
        """Read every alert and prediction once the output topics have stopped growing."""
        topics = [topic_name(ALERTS, self.prefix), topic_name(PREDICTIONS, self.prefix)]
        previous: dict[str, dict[int, int]] | None = None
        for _ in range(60):
            ends = kafka_io.end_offsets(self.bootstrap, topics)
            if ends == previous:
                break
            previous = ends
            time.sleep(2.0)
        records = kafka_io.read_range(
            self.bootstrap,
            {(topic, partition): 0 for topic in topics for partition in (previous or {})[topic]},
        )
        alerts: list[Alert] = []
        predictions: list[FailurePrediction] = []
        for _, value in records:
            if b'"kind":"alert"' in value.replace(b" ", b""):
                alerts.append(Alert.model_validate_json(value))
            elif b'"kind":"failure_prediction"' in value.replace(b" ", b""):
                predictions.append(FailurePrediction.model_validate_json(value))
        return alerts, predictions

    def stop(self) -> None:
        """Stop the worker and delete every topic under the prefix."""
        self.supervisor.stop(timeout_seconds=30)
        try:
            delete_topics(self.bootstrap, list_topics(self.bootstrap, self.prefix))
        except (KafkaException, RuntimeError, OSError) as error:
            logger.warning(
                "cannot delete the evaluation topics", extra={"topic": self.prefix, "error": str(error)}
            )


class _CountingPublisher:
    """The scraper's publisher, counting the messages that go to the agents' input topics."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher
        self.inputs = 0

    def reading(self, event: Reading | HouseStatus) -> None:
        self.publisher.reading(event)
        self.inputs += 1

    def scrape_log(self, event: ScrapeLog) -> None:
        self.publisher.scrape_log(event)
        self.inputs += 1

    def dead_letter(self, event: DeadLetter) -> None:
        self.publisher.dead_letter(event)

    def flush(self) -> int:
        return self.publisher.flush()


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, so that both unwind through the same cleanup."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_pipeline(
    config: SimulatorConfig,
    steps: int,
    bootstrap: str,
    *,
    step_seconds: float = 0.0,
    max_lag_steps: int | None = None,
    work_dir: Path | None = None,
    progress_stream: TextIO = sys.stderr,
    on_started: Callable[[AgentsWorker], None] | None = None,
) -> RunOutput:
    """Scrape ``steps`` simulated steps of ``config`` into a fresh agents worker and return its outputs.

    With ``max_lag_steps`` the scraper waits whenever the worker falls more than that many cycles
    behind, which bounds the backlog; the worker's alerts are the same at any lag.
    """
    if config.step_seconds is not None:
        raise EvaluationRunError(
            "the evaluation drives the simulator's clock itself: leave step_seconds unset"
        )
    directory = work_dir or Path(tempfile.mkdtemp(prefix="farmstream-evaluate-"))
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    worker = AgentsWorker(bootstrap, directory)
    simulator: RunningSimulator | None = None
    scraper: Scraper | None = None
    with _stop_on_sigterm():
        try:
            worker.start()
            if on_started is not None:
                on_started(worker)
            simulator = start_simulator(config, port=0, advance_on_scrape=False)
            farms_file = simulator.farms_file(directory / "farms.json")
            simulated = [config.start]
            settings = ScraperSettings(
                farms_file=farms_file,
                kafka_bootstrap=bootstrap,
                topic_prefix=worker.prefix,
                scraper_metrics_port=0,
                max_retries=1,
                backoff_base_seconds=0.0,
            )
            metrics = ScraperMetrics(CollectorRegistry())
            publisher = _CountingPublisher(
                EventPublisher.connect(bootstrap, prefix=worker.prefix, metrics=metrics)
            )
            published: list[int] = []
            scraper = Scraper(settings, publisher=publisher, metrics=metrics, clock=lambda: simulated[0])
            scraper.refresh_accounts()
            progress = _Progress(progress_stream, steps)
            for step in range(steps):
                simulated[0] = config.start + step * STEP
                for coordinator in scraper.coordinators.values():
                    coordinator.scrape(f"evaluate-{step}")
                simulator.advance(1)
                published.append(publisher.inputs)
                if max_lag_steps is not None:
                    publisher.flush()
                    if step >= max_lag_steps:
                        worker.wait_for(published[step - max_lag_steps])
                    progress.show(step + 1, worker.handled())
                elif (step + 1) % FLUSH_EVERY_CYCLES == 0:
                    publisher.flush()
                    progress.show(step + 1, worker.handled())
                if step_seconds > 0:
                    time.sleep(step_seconds)
            if publisher.flush():
                raise EvaluationRunError("the scraper could not deliver every event to Kafka")
            scrape_seconds = time.monotonic() - started
            progress.show(steps, worker.handled(), force=True)
            input_messages = worker.wait_until_caught_up(progress, steps)
            alerts, predictions = worker.collect()
            truth = simulator.ground_truth()
            simulator.write_ground_truth(directory / "ground-truth.json")
            with (directory / "events.jsonl").open("w", encoding="utf-8") as events:
                for event in [*alerts, *predictions]:
                    events.write(event.model_dump_json() + "\n")
            progress.show(steps, input_messages, force=True)
        finally:
            if scraper is not None:
                scraper.close()
            if simulator is not None:
                simulator.stop()
            worker.stop()
    return RunOutput(
        alerts=alerts,
        predictions=predictions,
        ground_truth=truth,
        steps=steps,
        input_messages=input_messages,
        scrape_seconds=scrape_seconds,
        total_seconds=time.monotonic() - started,
        prefix=worker.prefix,
        work_dir=directory,
    )


def replay_rows(alerts: list[Alert], replay: dict[str, Any]) -> list[int]:
    """Map the alert openings on the replayed probe back to CSV rows with the replay's time mapping."""
    sensor_number = str(replay["sensor"]).rsplit("_", 1)[-1]
    subject = f"temperature.sensor_{sensor_number}"
    mapping = replay["time_mapping"]
    start = datetime.fromisoformat(mapping["start"])
    step = timedelta(seconds=float(mapping["step_seconds"]))
    rows: list[int] = []
    for alert in alerts:
        if (
            alert.state == "open"
            and alert.farm_id == replay["farm_id"]
            and alert.house_number == replay["house"]
            and alert.subject == subject
        ):
            row = int(mapping["start_row"]) + round((alert.event_time - start) / step)
            if 0 <= row < int(replay["rows"]):
                rows.append(row)
    return sorted(rows)


def environment_summary() -> str:
    """Return a one-line description of the machine, for the run's record."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"cpus={os.cpu_count()} load_1min={load:.1f}"
