"""Scraper against the portal simulator with every portal fault injected (127.0.0.1, no broker).

Events go to the in-memory Recorder of fake_rotemnet. The faults are drawn per call with a fixed
seed: HTTP 503, slow responses, an expired session, malformed JSON, a BOM, isSucceed false and a
missing dsData. Every cycle must finish with a ScrapeLog per farm, and every reading must also be
published by a fault-free run at the same step. Dead letters must carry the raw body.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fake_rotemnet import Recorder
from prometheus_client import CollectorRegistry

from producers.config import ScraperSettings
from producers.metrics import ScraperMetrics
from producers.scraper import Scraper
from simulator.config import DEFAULT_START, FaultSpec, default_config
from simulator.server import start

_FAULTS = (
    FaultSpec("f-5xx", "http_5xx", "", DEFAULT_START, params={"probability": 0.15}),
    FaultSpec(
        "f-slow", "slow_response", "", DEFAULT_START, params={"probability": 0.05, "delay_seconds": 0.2}
    ),
    FaultSpec("f-expired", "expired_session", "", DEFAULT_START + timedelta(minutes=5)),
    FaultSpec("f-malformed", "malformed_json", "", DEFAULT_START, params={"probability": 0.05}),
    FaultSpec("f-bom", "bom", "", DEFAULT_START, params={"probability": 0.3}),
    FaultSpec("f-not-succeeded", "not_succeeded", "", DEFAULT_START, params={"probability": 0.1}),
    FaultSpec("f-missing", "missing_dsdata", "", DEFAULT_START, params={"probability": 0.1}),
)


def _scrape(tmp_path: Path, faults: tuple[FaultSpec, ...], cycles: int) -> Recorder:
    recorder = Recorder()
    config = default_config(seed=11, faults=faults, advance_on_scrape=False)
    with start(config, port=0) as simulator:
        settings = ScraperSettings(  # type: ignore[call-arg]
            farms_file=simulator.farms_file(tmp_path / f"farms-{len(faults)}.json"),
            max_retries=4,
            backoff_base_seconds=0.01,
            backoff_max_seconds=0.05,
            read_timeout_seconds=10,
            history_fetch_time="23:59",
            _env_file=None,
        )
        scraper = Scraper(settings, publisher=recorder, metrics=ScraperMetrics(CollectorRegistry()))
        for _ in range(cycles):
            scraper.run_cycle()
            simulator.advance(1)
        scraper.close()
    return recorder


def test_portal_faults_survived(tmp_path: Path) -> None:
    cycles = 3
    faulty = _scrape(tmp_path, _FAULTS, cycles)
    clean = _scrape(tmp_path, (), cycles)

    assert len(faulty.logs) == cycles * 4
    assert {log.outcome for log in faulty.logs} <= {"success", "partial", "failed"}
    assert any(log.retries > 0 for log in faulty.logs)
    assert sum(log.readings_published for log in faulty.logs) > 0

    clean_values = {reading.event_id: reading.value for reading in clean.readings}
    for reading in faulty.readings:
        assert reading.event_id in clean_values, reading
        if reading.source_command == "GetSiteControllersInfo":
            # Command 0 failed for this house, so the comparison's rounded value of the same
            # measurement was published instead (N1 for temperatures, whole numbers for pressures).
            assert abs(reading.value - clean_values[reading.event_id]) < 1.0, reading
        else:
            assert reading.value == clean_values[reading.event_id], reading

    assert faulty.dead_letters  # malformed bodies are dead-lettered
    for letter in faulty.dead_letters:
        assert letter.raw_payload
        assert letter.error_type == "PayloadError"
