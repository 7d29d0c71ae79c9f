"""Unit tests of the files and paths the local stack derives from its settings (no processes started)."""

from __future__ import annotations

from pathlib import Path

from farmstream.config import StackSettings
from farmstream.stack.kafka import KAFKA_VERSION, POM_PATH, KafkaPaths, server_properties
from farmstream.stack.postgres import fallback_base


def _properties(tmp_path: Path) -> dict[str, str]:
    settings = StackSettings(
        kafka_port=29092,
        kafka_controller_port=29093,
        stack_dir=tmp_path / "stack",
        cache_dir=tmp_path / "cache",
    )
    text = server_properties(settings, KafkaPaths.for_settings(settings))
    pairs = [line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def test_broker_listens_on_loopback(tmp_path: Path) -> None:
    properties = _properties(tmp_path)

    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert properties["process.roles"] == "broker,controller"
    assert properties["log.dirs"] == str(tmp_path / "stack" / "kafka" / "data")


def test_broker_single_node_replication(tmp_path: Path) -> None:
    properties = _properties(tmp_path)

    assert properties["offsets.topic.replication.factor"] == "1"
    assert properties["transaction.state.log.replication.factor"] == "1"
    assert properties["transaction.state.log.min.isr"] == "1"
    assert properties["group.initial.rebalance.delay.ms"] == "0"


def test_jar_cache_outside_stack(tmp_path: Path) -> None:
    settings = StackSettings(stack_dir=tmp_path / "stack", cache_dir=tmp_path / "cache")

    paths = KafkaPaths.for_settings(settings)

    assert paths.jars == tmp_path / "cache" / "kafka-3.9.1" / "libs"
    assert paths.log == tmp_path / "stack" / "logs" / "kafka.log"
    assert paths.pid_file == tmp_path / "stack" / "run" / "kafka.pid"


def test_postgres_fallback_per_stack(tmp_path: Path) -> None:
    first = fallback_base(tmp_path / "one")
    second = fallback_base(tmp_path / "two")

    assert first == fallback_base(tmp_path / "one")
    assert first != second
    assert first.parent.parent == Path("/var/tmp")


def test_pom_matches_kafka_version() -> None:
    pom = POM_PATH.read_text()

    assert f"<artifactId>kafka_2.13</artifactId>\n      <version>{KAFKA_VERSION}</version>" in pom
