"""The reliability suite: run the whole pipeline on the simulator, break one part, check what was kept.

Each scenario gets its own topic prefix, database, consumer groups, metrics ports and in-process
portal simulator. The services run as ``farmstream`` processes under a Supervisor, so a stage can
be killed with SIGKILL and restarted, and the broker and PostgreSQL of the stack can be stopped.
After the fault the scraper is stopped, the consumers drain, and the checks compare the topics
with the database, the simulator's served house-steps and the webhook's deliveries.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from farmstream.config import REPOSITORY_ROOT, StackSettings
from farmstream.reliability_checks import (
    Check,
    ConsumerCheckpoint,
    Figures,
    ServedSteps,
    WebhookReceiver,
    check_alerts,
    check_house_steps,
    check_readings,
    check_webhook,
    end_offsets,
    lagging_partitions,
    parse_instant,
    read_topic,
)
from farmstream.stack import kafka, postgres
from farmstream.stack.processes import LOOPBACK, port_is_open, stack_lock
from farmstream.stack.topics import create_topics, delete_topics
from farmstream.supervisor import ServiceSpec, Supervisor
from schemas.topics import ALERTS, ALL_TOPICS, READINGS, topic_name
from simulator.config import STEP, FaultSpec, SimulatorConfig, default_config
from simulator.portal import Response
from simulator.server import RunningSimulator

logger = logging.getLogger(__name__)

# The suite stops and restarts the broker and PostgreSQL, so it runs its own stack beside the shared one.
RELIABILITY_KAFKA_PORT = 29092
RELIABILITY_KAFKA_CONTROLLER_PORT = 29093
RELIABILITY_POSTGRES_PORT = 25432
RELIABILITY_STACK_DIR = REPOSITORY_ROOT / ".stack" / "reliability"

STEP_SECONDS = 0.5
POSTGRES_OUTAGE_SECONDS = 60.0
KAFKA_DOWN_SECONDS = 10.0
SERVICE_READY_TIMEOUT_SECONDS = 120.0
DRAIN_TIMEOUT_SECONDS = 180.0
RECOVERY_TIMEOUT_SECONDS = 240.0
FARM_COUNT = 2
# A controller going offline raises a controller_offline alert at once, so every scenario expects one.
HOUSE_FAULT_FARM = "farm-2"
HOUSE_FAULT_HOUSE = 5
HOUSE_FAULT_HOURS = (1.0, 3.0)
STORM_START_HOURS = 4.0
STORM_HOURS = 3.0
# Real seconds one simulated 5-minute step may take during the storm. With 5xx, timeouts and retries,
# storm cycles averaged 8 s in one run on a loaded 2-core machine, so 240 s missed the 36 steps.
STORM_SECONDS_PER_STEP = 15.0


@dataclass(frozen=True)
class Scenario:
    """One fault and whether a scrape step may be lost to it."""

    name: str
    summary: str
    may_skip_steps: bool = False
    disrupts_stack: bool = False


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("kafka_restart", "broker stopped, restarted 10 s later", disrupts_stack=True),
        Scenario("postgres_outage", "PostgreSQL stopped for 60 s", disrupts_stack=True),
        Scenario("kill_agents", "stream agents SIGKILL, restarted"),
        Scenario("kill_scraper", "scraper SIGKILL mid-cycle, restarted", may_skip_steps=True),
        Scenario("kill_sink", "sink SIGKILL, restarted"),
        Scenario(
            "portal_storm",
            "3 simulated hours of 5xx, slow responses, expired sessions, malformed JSON",
            may_skip_steps=True,
        ),
    )
}


@dataclass
class StackAccess:
    """Addresses of the broker and PostgreSQL, and the stack settings that stop and start them."""

    settings: StackSettings
    bootstrap: str
    admin_database_url: str
    may_stop: bool = False


@dataclass
class ScenarioResult:
    """The figures and checks of one scenario run."""

    scenario: Scenario
    figures: Figures
    fault_seconds: float = 0.0
    error: str | None = None
    log_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    # The 1-minute load average at the scenario's start and end, because other programs share the machine.
    load_averages: tuple[float, float] = (0.0, 0.0)

    @property
    def passed(self) -> bool:
        """Return whether every check passed and the run itself did not fail."""
        return self.error is None and all(check.passed for check in self.figures.checks)


def reliability_stack_settings() -> StackSettings:
    """Return the settings of the suite's own stack: ports and folder apart from the shared stack."""
    return StackSettings(
        kafka_port=RELIABILITY_KAFKA_PORT,
        kafka_controller_port=RELIABILITY_KAFKA_CONTROLLER_PORT,
        postgres_port=RELIABILITY_POSTGRES_PORT,
        stack_dir=RELIABILITY_STACK_DIR,
    )


def start_stack(settings: StackSettings) -> StackAccess:
    """Start the suite's broker and PostgreSQL (unless they run) and return how to reach them."""
    with stack_lock(settings.stack_dir):
        for component in (postgres, kafka):
            if not component.status(settings).running:
                component.start(settings)
    return StackAccess(
        settings,
        f"{LOOPBACK}:{settings.kafka_port}",
        f"postgresql://farmstream:farmstream@{LOOPBACK}:{settings.postgres_port}/farmstream",
        may_stop=True,
    )


def stop_stack(settings: StackSettings) -> None:
    """Stop the suite's broker and PostgreSQL by the process ids the stack recorded."""
    with stack_lock(settings.stack_dir):
        kafka.stop(settings)
        postgres.stop(settings)


def free_port() -> int:
    """Return a TCP port on the loopback address that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def simulator_config(start: datetime, storm: bool) -> SimulatorConfig:
    """Return the scenario's simulator: two farms, one controller outage and, for a storm, portal faults."""

    def at(hours: float) -> datetime:
        return start + timedelta(hours=hours)

    faults = [
        FaultSpec(
            fault_id="house-fault",
            kind="controller_offline",
            farm_id=HOUSE_FAULT_FARM,
            house=HOUSE_FAULT_HOUSE,
            start=at(HOUSE_FAULT_HOURS[0]),
            end=at(HOUSE_FAULT_HOURS[1]),
        )
    ]
    if storm:
        storm_start, storm_end = at(STORM_START_HOURS), at(STORM_START_HOURS + STORM_HOURS)
        storm_faults: list[tuple[str, dict[str, float]]] = [
            ("http_5xx", {"status": 503, "probability": 0.25}),
            ("slow_response", {"delay_seconds": 3.0, "probability": 0.1}),
            ("malformed_json", {"probability": 0.15}),
            ("expired_session", {}),
        ]
        faults += [
            FaultSpec(
                fault_id=f"storm-{kind}",
                kind=kind,
                farm_id="",
                start=storm_start,
                end=storm_end,
                params=params,
            )
            for kind, params in storm_faults
        ]
    base = default_config()
    return replace(
        base, seed=11, start=start, farms=base.farms[:FARM_COUNT], faults=tuple(faults), step_seconds=None
    )


def _record_served_steps(simulator: RunningSimulator, served: ServedSteps) -> None:
    """Wrap the portal's service calls so each usable GetSiteControllersInfo body is recorded as served."""
    portal = simulator.portal
    original = portal.service

    def service(host: int | None, method: str, headers: Any, body: Any) -> Response:
        response = original(host, method, headers, body)
        if method == "GetSiteControllersInfo" and response.status == 200:
            farm = portal._by_host.get(host) if host is not None else None
            if farm is not None:
                served.record(farm.farm_id, response.body)
        return response

    portal.service = service  # type: ignore[method-assign]


class ScenarioRun:
    """One scenario: its topics, database, simulator, services and the measurements taken."""

    def __init__(
        self,
        scenario: Scenario,
        stack: StackAccess,
        seconds: float,
        work_dir: Path,
        drain_seconds: float = DRAIN_TIMEOUT_SECONDS,
    ) -> None:
        self.scenario = scenario
        self.stack = stack
        self.seconds = seconds
        self.drain_seconds = drain_seconds
        self.run_id = uuid.uuid4().hex[:8]
        self.work_dir = work_dir / f"{scenario.name}-{self.run_id}"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = f"reliability-{scenario.name}-{self.run_id}."
        self.database = f"reliability_{scenario.name}_{self.run_id}"
        self.database_url = _database_url(stack.admin_database_url, self.database)
        self.readings_topic = topic_name(READINGS, self.prefix)
        self.alerts_topic = topic_name(ALERTS, self.prefix)
        self.sink_group = f"reliability-sink-{self.run_id}"
        self.agents_app = f"reliability-agents-{self.run_id}"
        self.notifier_group = f"reliability-notifier-{self.run_id}"
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.simulated_start = now - timedelta(minutes=now.minute % 5)
        self.figures = Figures()
        self.result = ScenarioResult(scenario, self.figures, log_dir=self.work_dir / "logs")

    # -- set-up and tear-down ------------------------------------------------------------------

    def _create_database(self) -> None:
        with psycopg.connect(
            self.stack.admin_database_url, autocommit=True, connect_timeout=10
        ) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _drop_database(self) -> None:
        with psycopg.connect(
            self.stack.admin_database_url, autocommit=True, connect_timeout=10
        ) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database))
            )

    def _environment(self, farms_file: Path, notifier_config: Path) -> dict[str, str]:
        return {
            "PYTHONUNBUFFERED": "1",
            "FARMSTREAM_KAFKA_BOOTSTRAP": self.stack.bootstrap,
            "FARMSTREAM_DATABASE_URL": self.database_url,
            "FARMSTREAM_TOPIC_PREFIX": self.prefix,
            "FARMSTREAM_SCRAPER_METRICS_PORT": str(free_port()),
            "FARMSTREAM_AGENTS_METRICS_PORT": str(free_port()),
            "FARMSTREAM_SINK_METRICS_PORT": str(free_port()),
            "FARMSTREAM_NOTIFIER_METRICS_PORT": str(free_port()),
            "FARMSTREAM_API_PORT": str(free_port()),
            "FARMSTREAM_SINK_GROUP_ID": self.sink_group,
            "FARMSTREAM_AGENTS_APP_ID": self.agents_app,
            "FARMSTREAM_AGENTS_DATA_DIR": str(self.work_dir / "agents"),
            "FARMSTREAM_NOTIFIER_GROUP_ID": self.notifier_group,
            "FARMSTREAM_NOTIFIER_CONFIG": str(notifier_config),
            "FARMSTREAM_FARMS_FILE": str(farms_file),
            "FARMSTREAM_SCRAPE_INTERVAL_SECONDS": str(STEP_SECONDS),
            "FARMSTREAM_HISTORY_FETCH_TIME": "00:00",
            # A slow response longer than the read timeout is a timeout the scraper must retry.
            "FARMSTREAM_READ_TIMEOUT_SECONDS": "2",
            "FARMSTREAM_BACKOFF_MAX_SECONDS": "2",
        }

    def _notifier_config(self, webhook_port: int) -> dict[str, Any]:
        return {
            "channels": {"receiver": {"type": "webhook", "url": f"http://{LOOPBACK}:{webhook_port}/alerts"}},
            "rules": [{"name": "everything", "channels": ["receiver"]}],
            "retry": {
                "max_attempts": 10,
                "initial_delay_seconds": 1,
                "max_delay_seconds": 5,
                "max_total_seconds": 300,
            },
        }

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> ScenarioResult:
        """Run the scenario end to end and return its figures; the services are always stopped."""
        create_topics(self.stack.bootstrap, self.prefix)
        self._create_database()
        config = simulator_config(self.simulated_start, storm=self.scenario.name == "portal_storm")
        simulator = RunningSimulator(config, 0)
        served = ServedSteps({farm.farm_id: farm.houses for farm in config.farms})
        _record_served_steps(simulator, served)
        receiver = WebhookReceiver()
        farms_file = simulator.farms_file(self.work_dir / "farms.json")
        notifier_config = self.work_dir / "notifier.json"
        notifier_config.write_text(json.dumps(self._notifier_config(receiver.port), indent=2))
        environment = self._environment(farms_file, notifier_config)
        supervisor = Supervisor(self.work_dir / "logs", {**os.environ, **environment})

        try:
            self._start_services(supervisor, environment)
            self._wait(self.seconds / 2, supervisor)

            fault_started = time.monotonic()
            self._inject(supervisor, simulator)
            fault_ended = time.monotonic()
            self.result.fault_seconds = fault_ended - fault_started
            self._measure_recovery(supervisor, fault_ended)

            _stop_service(supervisor, "scraper")
            self._drain()
            self._check(served, receiver, supervisor, simulator)
        except Exception as error:
            logger.exception("scenario failed", extra={"scenario": self.scenario.name})
            self.result.error = f"{type(error).__name__}: {error}"
        finally:
            supervisor.stop()
            simulator.write_ground_truth(self.work_dir / "ground-truth.json")
            simulator.stop()
            receiver.stop()
            self._clean_up()
        return self.result

    def _start_services(self, supervisor: Supervisor, environment: dict[str, str]) -> None:
        supervisor.start(ServiceSpec("sink", ["sink"]))
        supervisor.start(ServiceSpec("agents", ["agents"]))
        supervisor.start(ServiceSpec("notifier", ["notifier"]))
        for variable in (
            "FARMSTREAM_SINK_METRICS_PORT",
            "FARMSTREAM_AGENTS_METRICS_PORT",
            "FARMSTREAM_NOTIFIER_METRICS_PORT",
        ):
            self._wait_until(
                functools.partial(port_is_open, int(environment[variable])), supervisor, variable
            )
        supervisor.start(ServiceSpec("scraper", ["scrape"]))

    def _wait_until(self, condition: Callable[[], bool], supervisor: Supervisor, what: str) -> None:
        deadline = time.monotonic() + SERVICE_READY_TIMEOUT_SECONDS
        while not condition():
            self._require_running(supervisor)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not open within {SERVICE_READY_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.5)

    def _wait(self, seconds: float, supervisor: Supervisor) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._require_running(supervisor)
            time.sleep(0.5)

    def _require_running(self, supervisor: Supervisor) -> None:
        for service in supervisor.exited():
            if service.spec.name == "agents":
                continue  # checked with the alerts, so the other checks still report
            raise RuntimeError(
                f"{service.spec.name} exited with status {service.process.returncode}: see {service.log_path}"
            )

    def _inject(self, supervisor: Supervisor, simulator: RunningSimulator) -> None:
        name = self.scenario.name
        settings = self.stack.settings
        if name == "kafka_restart":
            with stack_lock(settings.stack_dir):
                kafka.stop(settings)
            time.sleep(KAFKA_DOWN_SECONDS)
            with stack_lock(settings.stack_dir):
                kafka.start(settings)
        elif name == "postgres_outage":
            with stack_lock(settings.stack_dir):
                postgres.stop(settings)
            time.sleep(POSTGRES_OUTAGE_SECONDS)
            with stack_lock(settings.stack_dir):
                postgres.start(settings)
        elif name.startswith("kill_"):
            service = {"kill_agents": "agents", "kill_scraper": "scraper", "kill_sink": "sink"}[name]
            if service == "agents":
                self._wait_for_agents_checkpoint(supervisor)
            supervisor.kill(service, signal.SIGKILL)
            time.sleep(2.0)
            supervisor.restart(service)
        elif name == "portal_storm":
            end = self.simulated_start + timedelta(hours=STORM_START_HOURS + STORM_HOURS)
            storm_steps = STORM_HOURS * 3600 / STEP.total_seconds()
            limit = max(RECOVERY_TIMEOUT_SECONDS, storm_steps * STORM_SECONDS_PER_STEP)
            deadline = time.monotonic() + limit
            while (now := parse_instant(str(simulator.clock()["simulated_time"]))) < end:
                self._require_running(supervisor)
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the simulated clock reached {now:%H:%M} but not the end of the portal storm "
                        f"({end:%H:%M}) within {limit:.0f} s: the scrape cycles are too slow"
                    )
                time.sleep(0.5)
        else:
            raise ValueError(f"unknown scenario {name!r}")

    def _wait_for_agents_checkpoint(self, supervisor: Supervisor) -> None:
        """Wait until the agents have committed offsets on every readings partition that has data.

        The agents commit only after a checkpoint, so the restarted worker then restores state rather
        than replay from empty state, which is the path the scenario is meant to break.
        """
        deadline = time.monotonic() + SERVICE_READY_TIMEOUT_SECONDS
        checkpoint = ConsumerCheckpoint(self.agents_app, self.readings_topic)
        while time.monotonic() < deadline:
            self._require_running(supervisor)
            ends = self._end_offsets_or_none(self.readings_topic)
            if ends:
                with_data = {partition: 1 for partition, end in ends.items() if end > 0}
                if with_data and lagging_partitions(self.stack.bootstrap, checkpoint, with_data) == 0:
                    return
            time.sleep(0.5)
        self.result.notes.append(
            f"agents killed before they checkpointed every readings partition "
            f"(waited {SERVICE_READY_TIMEOUT_SECONDS:.0f} s), so part of the restart replays from empty state"
        )

    def _measure_recovery(self, supervisor: Supervisor, fault_ended: float) -> None:
        """Record when the sink and the agents have committed everything published before the fault ended.

        The sink's time also waits for new readings, so a scraper that never came back is not recovered.
        """
        targets = self._end_offsets_retrying(self.readings_topic)
        sink = ConsumerCheckpoint(self.sink_group, self.readings_topic)
        agents = ConsumerCheckpoint(self.agents_app, self.readings_topic)
        deadline = fault_ended + max(self.seconds / 2, RECOVERY_TIMEOUT_SECONDS)
        minimum_end = fault_ended + self.seconds / 2
        figures = self.figures
        while time.monotonic() < deadline:
            self._require_running(supervisor)
            if figures.recovery_seconds is None:
                current = self._end_offsets_or_none(self.readings_topic)
                grown = current is not None and sum(current.values()) > sum(targets.values())
                if grown and lagging_partitions(self.stack.bootstrap, sink, targets) == 0:
                    figures.recovery_seconds = time.monotonic() - fault_ended
            if figures.agents_recovery_seconds is None:
                if lagging_partitions(self.stack.bootstrap, agents, targets) == 0:
                    figures.agents_recovery_seconds = time.monotonic() - fault_ended
            recovered = figures.recovery_seconds is not None and figures.agents_recovery_seconds is not None
            if recovered and time.monotonic() >= minimum_end:
                break
            time.sleep(0.5)
        figures.checks.append(
            Check(
                "pipeline recovered",
                figures.recovery_seconds is not None,
                "database caught up "
                + (f"{figures.recovery_seconds:.1f} s" if figures.recovery_seconds is not None else "never")
                + " and agents "
                + (
                    f"{figures.agents_recovery_seconds:.1f} s"
                    if figures.agents_recovery_seconds is not None
                    else "never"
                )
                + f" after the fault ended (limit {deadline - fault_ended:.0f} s)",
            )
        )

    def _end_offsets_or_none(self, topic: str) -> dict[int, int] | None:
        try:
            return end_offsets(self.stack.bootstrap, topic)
        except Exception:  # confluent-kafka raises KafkaException, or KeyError while metadata is partial
            return None

    def _end_offsets_retrying(self, topic: str) -> dict[int, int]:
        deadline = time.monotonic() + 60
        while True:
            offsets = self._end_offsets_or_none(topic)
            if offsets is not None:
                return offsets
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read the end offsets of {topic} within 60 s")
            time.sleep(1.0)

    def _drain(self) -> None:
        """Wait until the sink, agents and notifier have committed up to the end of their topics."""
        deadline = time.monotonic() + self.drain_seconds
        checkpoints = [
            ConsumerCheckpoint(self.sink_group, self.readings_topic),
            ConsumerCheckpoint(self.agents_app, self.readings_topic),
            ConsumerCheckpoint(self.sink_group, self.alerts_topic),
            ConsumerCheckpoint(self.notifier_group, self.alerts_topic),
        ]
        while time.monotonic() < deadline:
            lagging = [
                lagging_partitions(self.stack.bootstrap, item, self._end_offsets_retrying(item.topic))
                for item in checkpoints
            ]
            if all(count == 0 for count in lagging):
                time.sleep(3.0)  # deliveries that the notifier is still retrying
                self.figures.checks.append(
                    Check("pipeline drained", True, "every consumer committed up to the end of its topic")
                )
                return
            time.sleep(1.0)
        behind = [
            f"{item.group_id} on {item.topic}"
            for item, count in zip(checkpoints, lagging, strict=True)
            if count != 0
        ]
        self.figures.checks.append(
            Check(
                "pipeline drained",
                False,
                f"not at the end of the topic {self.drain_seconds:.0f} s after the scraper stopped: "
                + ", ".join(behind),
            )
        )

    def _agents_problem(self, supervisor: Supervisor) -> str | None:
        service = supervisor.services["agents"]
        if service.process.poll() is not None:
            return f"exited with status {service.process.returncode}, see {service.log_path}"
        crashes = [
            line
            for line in service.log_path.read_text(errors="replace").splitlines()
            if "Crashed reason" in line
        ]
        if crashes:
            return f"{len(crashes)} 'Crashed' lines in {service.log_path}"
        return None

    def _check(
        self,
        served: ServedSteps,
        receiver: WebhookReceiver,
        supervisor: Supervisor,
        simulator: RunningSimulator,
    ) -> None:
        readings: set[str] = set()
        scraped: set[tuple[str, int, datetime]] = set()
        for event in read_topic(self.stack.bootstrap, self.readings_topic):
            if event.get("kind") == "reading":
                readings.add(str(event["event_id"]))
            elif event.get("kind") == "house_status":
                scraped.add(
                    (str(event["farm_id"]), int(event["house_number"]), parse_instant(event["observed_at"]))
                )
        check_readings(self.figures, readings, self.database_url)
        check_house_steps(self.figures, served.house_steps(), scraped, self.scenario.may_skip_steps)

        transitions = [
            event
            for event in read_topic(self.stack.bootstrap, self.alerts_topic)
            if event.get("kind") == "alert"
        ]
        # The topics and database are removed afterwards, so the transitions stay here for diagnosis.
        with open(self.work_dir / "alerts.jsonl", "w") as kept:
            kept.writelines(json.dumps(event, sort_keys=True) + "\n" for event in transitions)
        fault = next(item for item in simulator.ground_truth()["faults"] if item["fault_id"] == "house-fault")
        check_alerts(self.figures, transitions, self.database_url, fault, self._agents_problem(supervisor))
        with receiver.lock:
            delivered = list(receiver.event_ids)
        check_webhook(self.figures, delivered, transitions)

    def _clean_up(self) -> None:
        try:
            self._drop_database()
            delete_topics(self.stack.bootstrap, [topic_name(spec, self.prefix) for spec in ALL_TOPICS])
        except Exception as error:  # a leftover database or topic costs disk space, not correctness
            logger.warning("could not remove the scenario's database or topics: %s", error)


def _stop_service(supervisor: Supervisor, name: str, timeout_seconds: float = 15.0) -> None:
    """Stop one service with SIGTERM, and SIGKILL when it has not exited within the timeout."""
    service = supervisor.services[name]
    if service.process.poll() is None:
        os.killpg(service.process.pid, signal.SIGTERM)
        try:
            service.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            logger.warning(
                "service ignored SIGTERM, killing it", extra={"service": name, "pid": service.process.pid}
            )
            supervisor.kill(name, signal.SIGKILL)
    if not service.log_file.closed:
        service.log_file.close()


def run_scenario(
    scenario: Scenario,
    stack: StackAccess,
    seconds: float,
    work_dir: Path,
    drain_seconds: float = DRAIN_TIMEOUT_SECONDS,
) -> ScenarioResult:
    """Run one scenario against a running stack and return its result.

    ``drain_seconds`` bounds the wait for every consumer to reach the end of its topic after the scraper
    stops. The agents are the slowest consumer, so a loaded machine needs a longer bound.
    """
    if scenario.disrupts_stack and not stack.may_stop:
        raise ValueError(
            f"scenario {scenario.name} stops the broker or PostgreSQL: run it on the suite's own stack "
            "(start_stack), never on a shared one"
        )
    logger.info("scenario started", extra={"scenario": scenario.name})
    started = time.monotonic()
    load_at_start = os.getloadavg()[0]
    result = ScenarioRun(scenario, stack, seconds, work_dir, drain_seconds).run()
    result.load_averages = (load_at_start, os.getloadavg()[0])
    logger.info(
        "scenario finished",
        extra={
            "scenario": scenario.name,
            "passed": result.passed,
            "seconds": round(time.monotonic() - started),
        },
    )
    return result
