"""Integration test: scrape a fake portal on 127.0.0.1 and publish through the real Kafka broker.

Needs `farmstream stack up`; the topics live under a prefix unique to the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_rotemnet import Account, FakePortal
from prometheus_client import CollectorRegistry

from producers.config import ScraperSettings
from producers.metrics import ScraperMetrics
from producers.publisher import EventPublisher
from producers.scraper import Scraper
from schemas.events import DeadLetter, HouseStatus, Reading, ScrapeLog, readings_topic_adapter
from schemas.topics import DEAD_LETTER, READINGS, SCRAPE_LOG, topic_name


@pytest.mark.integration
def test_scrape_publishes_to_kafka(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str, consume_messages: Callable[..., list[Any]]
) -> None:
    accounts = {
        "good": Account(password="pw", houses=3, offline_houses=frozenset({3})),
        "bad": Account(password="pw"),
    }
    with FakePortal(accounts) as portal:
        farms = tmp_path / "farms.json"
        farms.write_text(
            json.dumps(
                {
                    "portal_url": portal.url,
                    "farms": [
                        {
                            "farm_id": "farm-good",
                            "username": "good",
                            "password": "pw",
                            "timezone": "America/Chicago",
                        },
                        {"farm_id": "farm-bad", "username": "bad", "password": "nope"},
                    ],
                }
            )
        )
        portal.faults.malformed_json = 1
        portal.faults.malformed_method = "RNBL_GetCommandData"
        settings = ScraperSettings(  # type: ignore[call-arg]
            farms_file=farms,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
            _env_file=None,
            history_fetch_time="23:59",
        )
        metrics = ScraperMetrics(CollectorRegistry())
        publisher = EventPublisher.connect(kafka_bootstrap, prefix=topic_prefix, metrics=metrics, linger_ms=5)
        scraper = Scraper(settings, publisher=publisher, metrics=metrics)
        logs = {log.farm_id: log for log in scraper.run_cycle()}
        scraper.close()
    assert publisher.failed == 0

    good = logs["farm-good"]
    # Readings plus one status per house, except house 1, whose command 0 came back malformed.
    expected_readings = good.readings_published + good.houses_total - 1
    messages = consume_messages(topic_name(READINGS, topic_prefix), expected_readings)
    events = [readings_topic_adapter.validate_json(message.value()) for message in messages]
    statuses = {event.house_number: event for event in events if isinstance(event, HouseStatus)}
    assert sorted(statuses) == [2, 3]
    assert statuses[3].connection_status == "offline"
    readings = [event for event in events if isinstance(event, Reading)]
    assert len(readings) == good.readings_published
    assert {message.key() for message in messages} == {b"farm-good/1", b"farm-good/2", b"farm-good/3"}
    average = next(r for r in readings if r.house_number == 2 and r.parameter == "temperature.average")
    assert average.value == 29.71  # house 1 lost its command 0 to malformed JSON: comparison values only

    log_messages = consume_messages(topic_name(SCRAPE_LOG, topic_prefix), 2)
    outcomes = {
        ScrapeLog.model_validate_json(message.value()).farm_id: ScrapeLog.model_validate_json(
            message.value()
        ).outcome
        for message in log_messages
    }
    assert outcomes == {"farm-good": "partial", "farm-bad": "auth_failed"}

    assert good.outcome == "partial"
    assert good.dead_letters == 1
    letter = DeadLetter.model_validate_json(
        consume_messages(topic_name(DEAD_LETTER, topic_prefix), 1)[0].value()
    )
    assert letter.farm_id == "farm-good"
    assert letter.command == "RNBL_GetCommandData/0"
    assert letter.raw_payload.startswith('{"reponseObj"')
