"""Integration test of a house that vanishes from the portal's house list, from scraper to alert.

A fake portal on 127.0.0.1 replaces RotemNet. The scraper publishes through the real Kafka
broker of `farmstream stack up` under a topic prefix unique to the test, and the statuses read
back from the readings topic go through the agents' processing core.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from producers.config import ScraperSettings
from producers.metrics import ScraperMetrics
from producers.publisher import EventPublisher
from producers.scraper import Scraper
from schemas.events import Alert, HouseStatus, readings_topic_adapter
from schemas.topics import READINGS, topic_name
from stream_processors.core import Processor
from tests.producers.fake_rotemnet import Account, FakePortal

pytestmark = pytest.mark.integration


def _farms_file(tmp_path: Path, portal: FakePortal) -> Path:
    path = tmp_path / "farms.json"
    farm = {"farm_id": "farm-a", "username": "grower", "password": "pw", "timezone": "America/Chicago"}
    path.write_text(json.dumps({"portal_url": portal.url, "farms": [farm]}))
    return path


def test_vanished_house_alerts_through_kafka(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str, consume_messages: Callable[..., list[Any]]
) -> None:
    with FakePortal({"grower": Account(password="pw", houses=3)}) as portal:
        settings = ScraperSettings(  # type: ignore[call-arg]
            farms_file=_farms_file(tmp_path, portal),
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
            _env_file=None,
            history_fetch_time="23:59",
        )
        metrics = ScraperMetrics(CollectorRegistry())
        publisher = EventPublisher.connect(kafka_bootstrap, prefix=topic_prefix, metrics=metrics, linger_ms=5)
        scraper = Scraper(settings, publisher=publisher, metrics=metrics)
        logs = scraper.run_cycle()
        portal.unlist("grower", frozenset({2}))
        logs += scraper.run_cycle()
        logs += scraper.run_cycle()
        scraper.close()
    assert publisher.failed == 0

    # Three statuses per cycle: houses 1 and 3 listed, house 2 listed first and missing after.
    expected = sum(log.readings_published for log in logs) + 9
    messages = consume_messages(topic_name(READINGS, topic_prefix), expected)
    house2: list[tuple[bytes | None, int | None, HouseStatus]] = []
    for message in messages:
        event = readings_topic_adapter.validate_json(message.value())
        if isinstance(event, HouseStatus) and event.house_number == 2:
            house2.append((message.key(), message.partition(), event))
    assert [event.connection_status for _key, _partition, event in house2] == [
        "connected",
        "missing",
        "missing",
    ]
    assert {key for key, _partition, _event in house2} == {b"farm-a/2"}
    assert len({partition for _key, partition, _event in house2}) == 1
    assert [log.houses_total for log in logs] == [3, 2, 2]

    processor = Processor()
    alerts = [
        output
        for _key, _partition, event in house2
        for output in processor.process(event)
        if isinstance(output, Alert) and output.rule == "controller_offline"
    ]
    assert [(alert.state, alert.severity) for alert in alerts] == [("open", "critical")]
    assert alerts[0].message == "house 2 is missing from the portal's house list"
