"""Integration tests of the agents worker against the real broker of ``farmstream stack``.

The worker runs as a subprocess (``farmstream agents``) under a unique topic prefix and consumer
group; the tests produce events with confluent-kafka and read the alerts the worker publishes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from sp_events import START, STEP, make_reading

from schemas.events import readings_key

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FARMSTREAM = ROOT / ".venv" / "bin" / "farmstream"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Worker:
    """One ``farmstream agents`` subprocess with its settings."""

    def __init__(self, bootstrap: str, prefix: str, app_id: str, data_dir: Path, log: Path) -> None:
        self.environment = {
            **os.environ,
            "FARMSTREAM_KAFKA_BOOTSTRAP": bootstrap,
            "FARMSTREAM_TOPIC_PREFIX": prefix,
            "FARMSTREAM_AGENTS_APP_ID": app_id,
            "FARMSTREAM_AGENTS_DATA_DIR": str(data_dir),
            "FARMSTREAM_AGENTS_METRICS_PORT": str(_free_port()),
            "FARMSTREAM_CHECKPOINT_INTERVAL_SECONDS": "2",
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(FARMSTREAM), "agents"], env=self.environment, stdout=output, stderr=output, cwd=ROOT
            )

    def stop(self, sig: int, timeout: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def worker_factory(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[Worker]:
    worker = Worker(
        kafka_bootstrap, topic_prefix, f"agents-{uuid.uuid4().hex[:8]}", tmp_path / "data", tmp_path / "log"
    )
    yield worker
    if worker.process is not None and worker.process.poll() is None:
        worker.process.kill()
        worker.process.wait(timeout=30)


def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> dict[int, int]:
    """Produce messages and return the last offset written per partition."""
    producer = Producer({"bootstrap.servers": bootstrap})
    last: dict[int, int] = {}

    def delivered(error: object, message: object) -> None:
        assert error is None, f"delivery failed: {error}"
        partition, offset = message.partition(), message.offset()  # type: ignore[attr-defined]
        last[partition] = max(last.get(partition, -1), offset)

    for key, value in messages:
        producer.produce(topic, key=key, value=value, on_delivery=delivered)
    assert producer.flush(30) == 0
    return last


def _read_all(
    bootstrap: str, topic: str, settle: float = 3.0, timeout: float = 90.0, until: int = 0
) -> list[dict]:  # type: ignore[type-arg]
    """Read a topic from its start until ``until`` messages came and none for ``settle`` s."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    documents: list[dict] = []  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    last_arrival = time.monotonic()
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                if len(documents) >= until and time.monotonic() - last_arrival > settle:
                    break
                continue
            documents.append(json.loads(message.value() or b"null"))
            last_arrival = time.monotonic()
    finally:
        consumer.close()
    return documents


def _wait_for_manifest(
    bootstrap: str, topic: str, partition: int, offset: int, timeout: float = 60.0
) -> None:
    """Wait until the checkpoint topic contains a manifest of a partition covering an offset."""
    sys.path.insert(0, str(ROOT))
    from stream_processors.checkpoint import Manifest, _load

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4().hex}"})
        consumer.assign([TopicPartition(topic, 0, 0)])
        covered = -1
        idle = 0
        while idle < 4:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                idle += 1
                continue
            if message.key() == f"{partition}/manifest".encode():
                manifest = _load(message.value() or b"")
                assert isinstance(manifest, Manifest)
                covered = manifest.offset
        consumer.close()
        if covered >= offset:
            return
        time.sleep(1.0)
    pytest.fail(f"no checkpoint of partition {partition} covering offset {offset} within {timeout} s")


def _readings(
    parameter: str, values: list[float], first_step: int, unit: str = "degC"
) -> list[tuple[bytes, bytes]]:
    return [
        (
            readings_key("farm-a", 1),
            make_reading(parameter, value, START + (first_step + i) * STEP, unit=unit).to_bytes(),
        )
        for i, value in enumerate(values)
    ]


def test_agents_alert_and_dead_letter(
    kafka_bootstrap: str, topic_prefix: str, worker_factory: Worker
) -> None:
    readings = f"{topic_prefix}readings"
    messages = _readings("co2", [1000.0, 1000.0, 6000.0, 6000.0, 6000.0, 6000.0], 0, unit="ppm")
    messages.append((readings_key("farm-a", 1), b"{not json"))
    _produce(kafka_bootstrap, readings, messages)
    worker_factory.start()
    alerts = _read_all(kafka_bootstrap, f"{topic_prefix}alerts", until=1)
    letters = _read_all(kafka_bootstrap, f"{topic_prefix}dead-letter", until=1)
    assert worker_factory.stop(signal.SIGTERM) == 0
    assert [(a["rule"], a["state"], a["severity"]) for a in alerts] == [
        ("co2_over_limit", "open", "critical")
    ]
    assert len(letters) == 1
    assert letters[0]["stage"] == "stream_processor"
    assert letters[0]["raw_payload"] == "{not json"
    assert letters[0]["source_topic"] == readings


def test_sigkill_restart_repeats_nothing(
    kafka_bootstrap: str, topic_prefix: str, worker_factory: Worker
) -> None:
    readings = f"{topic_prefix}readings"
    checkpoints = f"{topic_prefix}agents-checkpoints"
    # Phase 1: warm the temperature detector and see normal CO2, then wait for a checkpoint.
    warm = [25.0 + 0.3 * ((step * 7) % 5 - 2) for step in range(320)]
    phase_one = _readings("temperature.sensor_1", warm, 0) + _readings("co2", [1000.0] * 3, 317, unit="ppm")
    last = _produce(kafka_bootstrap, readings, phase_one)
    worker_factory.start()
    [(partition, offset)] = last.items()
    _wait_for_manifest(kafka_bootstrap, checkpoints, partition, offset)

    # Phase 2: CO2 goes over the limit; kill the worker right after the alert is out.
    _produce(kafka_bootstrap, readings, _readings("co2", [6000.0] * 4, 320, unit="ppm"))
    opened = _read_all(kafka_bootstrap, f"{topic_prefix}alerts", settle=0.5, until=1)
    worker_factory.stop(signal.SIGKILL)

    # Phase 3: a new worker in the same group; CO2 back to normal and a temperature shift.
    worker_factory.start()
    phase_three = _readings("co2", [1000.0] * 4, 324, unit="ppm") + _readings(
        "temperature.sensor_1", [15.0] * 6, 324
    )
    _produce(kafka_bootstrap, readings, phase_three)
    alerts = _read_all(kafka_bootstrap, f"{topic_prefix}alerts", settle=5.0, until=3)
    assert worker_factory.stop(signal.SIGTERM) == 0

    co2 = [(a["state"], a["alert_id"]) for a in alerts if a["rule"] == "co2_over_limit"]
    assert len(opened) == 1
    assert co2 == [("open", opened[0]["alert_id"]), ("resolved", opened[0]["alert_id"])]
    event_ids = [a["event_id"] for a in alerts]
    assert len(event_ids) == len(set(event_ids))
    # The detector kept its warm-up through the kill: six readings after restart are enough to flag.
    anomalies = [a for a in alerts if a["rule"] == "anomaly" and a["state"] == "open"]
    assert [a["subject"] for a in anomalies] == ["temperature.sensor_1"]
