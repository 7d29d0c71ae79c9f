"""Integration test: scrape the portal simulator (in-process, 127.0.0.1) through the real Kafka broker."""

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
from schemas.events import HouseStatus, Reading, readings_topic_adapter
from schemas.topics import READINGS, topic_name
from simulator.config import default_config
from simulator.server import start


@pytest.mark.integration
@pytest.mark.parametrize("login_style", ["classic", "api"])
def test_simulator_farms_reach_kafka(
    tmp_path: Path,
    kafka_bootstrap: str,
    topic_prefix: str,
    consume_messages: Callable[..., list[Any]],
    login_style: str,
) -> None:
    with start(default_config(seed=3), port=0) as simulator:
        farms_file = simulator.farms_file(tmp_path / "farms.json")
        document = json.loads(farms_file.read_text(encoding="utf-8"))
        for farm in document["farms"]:
            farm["login_style"] = login_style
        farms_file.write_text(json.dumps(document), encoding="utf-8")
        settings = ScraperSettings(  # type: ignore[call-arg]
            farms_file=farms_file,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
            history_fetch_time="23:59",
            _env_file=None,
        )
        metrics = ScraperMetrics(CollectorRegistry())
        publisher = EventPublisher.connect(kafka_bootstrap, prefix=topic_prefix, metrics=metrics, linger_ms=5)
        scraper = Scraper(settings, publisher=publisher, metrics=metrics)
        logs = scraper.run_cycle()
        service_urls = {farm.client.session_web_url for farm in scraper.coordinators.values()}
        scraper.close()

    assert {log.outcome for log in logs} == {"success"}
    # The api style's service base ends in /api/, and the classic style's in /HostN_V1/.
    assert service_urls
    for url in service_urls:
        assert url is not None
        assert url.endswith("/api/") == (login_style == "api"), url
    assert sum(log.dead_letters for log in logs) == 0
    total = sum(log.readings_published + log.houses_total for log in logs)
    events = [
        readings_topic_adapter.validate_json(message.value())
        for message in consume_messages(topic_name(READINGS, topic_prefix), total, timeout=60.0)
    ]
    statuses = {(event.farm_id, event.house_number) for event in events if isinstance(event, HouseStatus)}
    assert len(statuses) == sum(log.houses_total for log in logs)

    averages = {
        (event.farm_id, event.house_number): event
        for event in events
        if isinstance(event, Reading) and event.parameter == "temperature.average"
    }
    assert len(averages) == len(statuses)
    for reading in averages.values():
        assert reading.unit == "degC"
        assert 10.0 < reading.value < 45.0, reading  # °F accounts converted, not passed through
    pressures = [e for e in events if isinstance(e, Reading) and e.parameter == "static_pressure"]
    assert all(0.0 <= reading.value < 100.0 for reading in pressures)  # inWC accounts converted to Pa
