"""Scraper tests: farms scraped against a fake portal on 127.0.0.1, events kept by an in-memory recorder.

The recorder replaces the Kafka publisher here; the integration test runs the real broker.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_rotemnet import Account, FakePortal, Recorder
from prometheus_client import CollectorRegistry

from producers.config import ScraperSettings
from producers.metrics import ScraperMetrics
from producers.scraper import Scraper
from schemas.events import HouseStatus

NOON_CHICAGO = datetime(2026, 4, 24, 17, 25, tzinfo=UTC)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    accounts = {
        "good": Account(password="pw-good", houses=7, offline_houses=frozenset({7})),
        "bad": Account(password="pw-bad", houses=6),
    }
    with FakePortal(accounts) as fake:
        yield fake


def _farms_file(tmp_path: Path, portal: FakePortal, bad_password: str = "wrong") -> Path:  # noqa: S107
    path = tmp_path / "farms.json"
    path.write_text(
        json.dumps(
            {
                "portal_url": portal.url,
                "farms": [
                    {
                        "farm_id": "farm-good",
                        "username": "good",
                        "password": "pw-good",
                        "timezone": "America/Chicago",
                    },
                    {
                        "farm_id": "farm-bad",
                        "username": "bad",
                        "password": bad_password,
                        "timezone": "America/Chicago",
                    },
                ],
            }
        )
    )
    return path


def _scraper(
    path: Path,
    now: datetime = NOON_CHICAGO,
    registry: CollectorRegistry | None = None,
    listed_houses: Path | None = None,
) -> tuple[Scraper, Recorder]:
    settings = ScraperSettings(  # type: ignore[call-arg]
        farms_file=path,
        max_retries=1,
        backoff_base_seconds=0.0,
        listed_houses_file=listed_houses,
        _env_file=None,
    )
    recorder = Recorder()
    scraper = Scraper(
        settings,
        publisher=recorder,
        metrics=ScraperMetrics(registry or CollectorRegistry()),
        clock=lambda: now,
        sleep=lambda _: None,
    )
    return scraper, recorder


def test_cycle_publishes_every_house(tmp_path: Path, portal: FakePortal) -> None:
    scraper, recorder = _scraper(_farms_file(tmp_path, portal))
    logs = {log.farm_id: log for log in scraper.run_cycle()}
    scraper.close()

    good = logs["farm-good"]
    assert good.outcome == "success"
    assert good.houses_total == 7
    assert good.houses_connected == 6
    statuses = {status.house_number: status for status in recorder.statuses}
    assert sorted(statuses) == [1, 2, 3, 4, 5, 6, 7]
    assert statuses[7].connection_status == "offline"
    assert statuses[7].readings_published == 0
    assert not [reading for reading in recorder.readings if reading.house_number == 7]
    assert good.readings_published == len(recorder.readings)


def test_command_zero_wins_over_comparison(tmp_path: Path, portal: FakePortal) -> None:
    scraper, recorder = _scraper(_farms_file(tmp_path, portal))
    scraper.run_cycle()
    scraper.close()
    house2 = {reading.parameter: reading for reading in recorder.readings if reading.house_number == 2}
    assert house2["temperature.average"].value == 29.71
    assert house2["temperature.average"].source_command == "RNBL_GetCommandData/0"
    assert house2["temperature.average"].observed_at == datetime(2026, 4, 24, 10, 33, 19, 849676, tzinfo=UTC)
    # The comparison has 30.0 for sensor 9 of house 2; the command-0 value wins.
    assert house2["temperature.sensor_9"].value == 27.33


def test_failed_command_zero_skips_status(tmp_path: Path, portal: FakePortal) -> None:
    portal.faults.missing_data_set = 2  # the first attempt and its one retry
    scraper, recorder = _scraper(_farms_file(tmp_path, portal))
    logs = {log.farm_id: log for log in scraper.run_cycle()}
    scraper.close()

    assert logs["farm-good"].outcome == "partial"
    # The agents would read the keys missing from a site-only status as failed sensors.
    assert sorted(status.house_number for status in recorder.statuses) == [2, 3, 4, 5, 6, 7]
    sources = {reading.source_command for reading in recorder.readings if reading.house_number == 1}
    assert "GetSiteControllersInfo" in sources
    assert "RNBL_GetCommandData/0" not in sources


def test_bad_credentials_stop_farm(tmp_path: Path, portal: FakePortal) -> None:
    path = _farms_file(tmp_path, portal)
    scraper, recorder = _scraper(path)
    first = {log.farm_id: log for log in scraper.run_cycle()}
    assert first["farm-bad"].outcome == "auth_failed"
    assert first["farm-bad"].error_kind == "credentials"
    assert first["farm-good"].outcome == "success"
    assert portal.logins["bad"] == 1

    second = {log.farm_id: log for log in scraper.run_cycle()}
    assert second["farm-bad"].outcome == "auth_failed"
    assert second["farm-bad"].requests == 0
    assert second["farm-good"].outcome == "success"
    assert portal.logins["bad"] == 1

    _farms_file(tmp_path, portal, bad_password="pw-bad")
    third = {log.farm_id: log for log in scraper.run_cycle()}
    scraper.close()
    assert third["farm-bad"].outcome == "success"
    assert portal.logins["bad"] == 2
    assert len([log for log in recorder.logs if log.farm_id == "farm-bad"]) == 3


def test_malformed_site_info_dead_letters(tmp_path: Path, portal: FakePortal) -> None:
    path = tmp_path / "farms.json"
    path.write_text(
        json.dumps(
            {
                "portal_url": portal.url,
                "farms": [{"farm_id": "farm-good", "username": "good", "password": "pw-good"}],
            }
        )
    )
    scraper, recorder = _scraper(path)
    scraper.run_cycle()
    portal.faults.malformed_json = 1
    logs = scraper.run_cycle()
    scraper.close()
    assert logs[0].outcome == "failed"
    assert logs[0].error_kind == "payload"
    assert len(recorder.dead_letters) == 1
    letter = recorder.dead_letters[0]
    assert letter.command == "GetSiteControllersInfo"
    assert letter.raw_payload.startswith('{"reponseObj"')


def test_server_errors_survived(tmp_path: Path, portal: FakePortal) -> None:
    scraper, recorder = _scraper(_farms_file(tmp_path, portal, bad_password="pw-bad"))
    portal.faults.server_errors = 1
    logs = scraper.run_cycle()
    scraper.close()
    assert {log.outcome for log in logs} == {"success"}
    assert sum(log.retries for log in logs) == 1
    assert len(recorder.statuses) == 13


def test_history_once_a_day(tmp_path: Path, portal: FakePortal) -> None:
    path = tmp_path / "farms.json"
    path.write_text(
        json.dumps(
            {
                "portal_url": portal.url,
                "farms": [
                    {
                        "farm_id": "farm-good",
                        "username": "good",
                        "password": "pw-good",
                        "timezone": "America/Chicago",
                    }
                ],
            }
        )
    )
    scraper, recorder = _scraper(path)
    scraper.run_cycle()
    history = [reading for reading in recorder.readings if reading.period == "day"]
    assert history
    assert {reading.growth_day for reading in history} == set(range(-1, 21))  # day 21 is partial
    day20 = [
        r
        for r in history
        if r.house_number == 1 and r.parameter == "history.water.total" and r.growth_day == 20
    ]
    assert day20[0].value == 2024.0
    calls = portal.calls["RNBL_GetCommandData"]
    scraper.run_cycle()
    scraper.close()
    assert portal.calls["RNBL_GetCommandData"] - calls == 6  # command 0 only, history already done today
    heaters = [r for r in history if r.parameter == "history.heater_1.runtime" and r.house_number == 1]
    assert heaters[0].value == 5400.0
    assert not recorder.dead_letters


def test_vanished_house_reported_missing(
    tmp_path: Path, portal: FakePortal, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    scraper, recorder = _scraper(_farms_file(tmp_path, portal), registry=registry)

    def cycle() -> list[HouseStatus]:
        recorder.statuses.clear()
        recorder.readings.clear()
        scraper.run_cycle()
        return [status for status in recorder.statuses if status.farm_id == "farm-good"]

    def gauge() -> float | None:
        return registry.get_sample_value("farmstream_scraper_houses_missing", {"farm": "farm-good"})

    listed = cycle()
    portal.unlist("good", frozenset({3}))
    with caplog.at_level(logging.WARNING, logger="producers.scraper"):
        gone_cycles = [cycle()]
        house3_readings = [reading for reading in recorder.readings if reading.house_number == 3]
        gone_cycles.append(cycle())
    gone_gauge = gauge()
    portal.unlist("good", frozenset())
    back = cycle()
    scraper.close()

    assert sorted(status.house_number for status in listed) == [1, 2, 3, 4, 5, 6, 7]
    assert house3_readings == []
    for statuses in gone_cycles:
        assert sorted(status.house_number for status in statuses) == [1, 2, 3, 4, 5, 6, 7]
        missing = [status for status in statuses if status.connection_status == "missing"]
        assert [status.house_number for status in missing] == [3]
        assert missing[0].controller_id == "farm-good/house-3"
        assert missing[0].readings_published == 0
        assert missing[0].sentinel_keys == []
        assert missing[0].alarm_codes == []
        assert missing[0].fetched_at == NOON_CHICAGO
        # Dated on the portal time of its cycle, like the listed houses.
        assert {status.observed_at for status in statuses} == {missing[0].observed_at}
    warnings = [record for record in caplog.records if record.getMessage().startswith("house missing")]
    assert [(record.__dict__["farm"], record.__dict__["house"]) for record in warnings] == [
        ("farm-good", 3),
        ("farm-good", 3),
    ]
    assert gone_gauge == 1
    assert [status.connection_status for status in back if status.house_number == 3] == ["connected"]
    assert [status for status in back if status.connection_status == "missing"] == []
    assert gauge() == 0
    missing_total = registry.get_sample_value(
        "farmstream_scraper_missing_statuses_total", {"farm": "farm-good"}
    )
    assert missing_total == 2


def test_restart_forgets_listed_houses(tmp_path: Path, portal: FakePortal) -> None:
    path = _farms_file(tmp_path, portal)
    first, _ = _scraper(path)
    first.run_cycle()
    first.close()
    portal.unlist("good", frozenset({3}))

    restarted, recorder = _scraper(path)
    restarted.run_cycle()
    restarted.close()

    # Nothing is persisted, so a house that vanished before the restart is not reported.
    numbers = sorted(status.house_number for status in recorder.statuses if status.farm_id == "farm-good")
    assert numbers == [1, 2, 4, 5, 6, 7]
    assert [status for status in recorder.statuses if status.connection_status == "missing"] == []


def test_other_account_clears_listed_houses(tmp_path: Path, portal: FakePortal) -> None:
    path = _farms_file(tmp_path, portal)
    scraper, recorder = _scraper(path)
    scraper.run_cycle()
    # farm-good moves to the account "bad", which lists houses 1 to 6 of its own.
    farms = json.loads(path.read_text())
    farms["farms"][0].update({"username": "bad", "password": "pw-bad"})
    path.write_text(json.dumps(farms))
    recorder.statuses.clear()
    scraper.run_cycle()
    scraper.close()

    statuses = [status for status in recorder.statuses if status.farm_id == "farm-good"]
    assert sorted(status.house_number for status in statuses) == [1, 2, 3, 4, 5, 6]
    assert [status for status in statuses if status.connection_status == "missing"] == []


def test_stop_skips_retry_waits(tmp_path: Path, portal: FakePortal) -> None:
    settings = ScraperSettings(  # type: ignore[call-arg]
        farms_file=_farms_file(tmp_path, portal), max_retries=5, backoff_base_seconds=60.0, _env_file=None
    )
    registry = CollectorRegistry()
    scraper = Scraper(settings, publisher=Recorder(), metrics=ScraperMetrics(registry), sleep=time.sleep)
    portal.faults.server_errors = 10_000  # the portal is down: every call fails and is retried
    stop = threading.Event()
    runner = threading.Thread(target=scraper.run, args=(stop,), daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    while not registry.get_sample_value("farmstream_scraper_retries_total", {"farm": "farm-good"}):
        assert time.monotonic() < deadline, "the scraper made no retry within 30 s"
        time.sleep(0.05)
    stop.set()
    # Each retry waits up to a minute: without the stop, the cycle would take many minutes.
    runner.join(timeout=30)
    still_running = runner.is_alive()
    scraper.close()
    assert not still_running


def _missing_houses(scraper: Scraper, recorder: Recorder) -> list[int]:
    recorder.statuses.clear()
    scraper.run_cycle()
    return [
        status.house_number
        for status in recorder.statuses
        if status.farm_id == "farm-good" and status.connection_status == "missing"
    ]


def _listed_before(tmp_path: Path, portal: FakePortal, listed: Path) -> Path:
    """Run one cycle that lists every house into the file, and return the farms file."""
    farms = _farms_file(tmp_path, portal)
    scraper, _ = _scraper(farms, listed_houses=listed)
    scraper.run_cycle()
    scraper.close()
    return farms


def test_vanished_house_reported_after_restart(tmp_path: Path, portal: FakePortal) -> None:
    listed = tmp_path / "state" / "listed-houses.json"
    farms = _listed_before(tmp_path, portal, listed)
    portal.unlist("good", frozenset({3}))
    scraper, recorder = _scraper(farms, listed_houses=listed)
    missing = _missing_houses(scraper, recorder)
    scraper.close()

    assert missing == [3]
    lists = json.loads(listed.read_text())["farms"]["farm-good"]
    assert list(lists.values()) == [[1, 2, 3, 4, 5, 6, 7]]
    # The account is named by a hash, not by its user name.
    assert '"good"' not in listed.read_text()


def test_listed_houses_of_other_account_ignored(tmp_path: Path, portal: FakePortal) -> None:
    listed = tmp_path / "listed-houses.json"
    farms = _listed_before(tmp_path, portal, listed)
    document = json.loads(listed.read_text())
    document["farms"]["farm-good"] = {"0123456789abcdef": [1, 2, 3, 4, 5, 6, 7]}
    listed.write_text(json.dumps(document))
    portal.unlist("good", frozenset({3}))
    scraper, recorder = _scraper(farms, listed_houses=listed)
    missing = _missing_houses(scraper, recorder)
    scraper.close()

    assert missing == []


def test_account_typo_fixed_keeps_listed_houses(tmp_path: Path, portal: FakePortal) -> None:
    listed = tmp_path / "listed-houses.json"
    farms = _listed_before(tmp_path, portal, listed)
    scraper, recorder = _scraper(farms, listed_houses=listed)
    scraper.run_cycle()
    correct = farms.read_text()
    farms.write_text(correct.replace('"username": "good"', '"username": "goood"'))
    scraper.run_cycle()  # Another account, which the portal rejects, so it lists nothing.
    portal.unlist("good", frozenset({3}))
    farms.write_text(correct)
    missing = _missing_houses(scraper, recorder)
    scraper.close()

    assert missing == [3]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe not UTF-8",
        b"[" * 200_000,
        b'{"version": true, "farms": {}}',
        b'{"version": 2, "farms": {}}',
        b'{"version": 1, "farms": []}',
    ],
    ids=["empty", "not UTF-8", "nested deeper than the parser goes", "boolean version", "version 2", "list"],
)
def test_invalid_listed_houses_file_moved_aside(
    tmp_path: Path, portal: FakePortal, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    listed = tmp_path / "listed-houses.json"
    listed.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="producers.listed_houses"):
        scraper, recorder = _scraper(_farms_file(tmp_path, portal), listed_houses=listed)
    missing = _missing_houses(scraper, recorder)
    scraper.close()

    assert missing == []
    [aside] = tmp_path.glob("listed-houses.json.invalid-*")
    assert aside.read_bytes() == content
    lists = json.loads(listed.read_text())["farms"]["farm-good"]
    assert list(lists.values()) == [[1, 2, 3, 4, 5, 6, 7]]
    errors = [record for record in caplog.records if "moved aside" in record.getMessage()]
    assert len(errors) == 1
    assert errors[0].__dict__["path"] == str(listed)


def test_invalid_farm_entry_dropped_alone(
    tmp_path: Path, portal: FakePortal, caplog: pytest.LogCaptureFixture
) -> None:
    listed = tmp_path / "listed-houses.json"
    farms = _listed_before(tmp_path, portal, listed)
    document = json.loads(listed.read_text())
    document["farms"]["farm-gone"] = {"0123456789abcdef": ["3"]}
    listed.write_text(json.dumps(document))
    portal.unlist("good", frozenset({3}))
    with caplog.at_level(logging.ERROR, logger="producers.listed_houses"):
        scraper, recorder = _scraper(farms, listed_houses=listed)
    missing = _missing_houses(scraper, recorder)
    scraper.close()

    assert missing == [3]
    dropped = [record.__dict__.get("farm") for record in caplog.records if "dropped" in record.getMessage()]
    assert dropped == ["farm-gone"]


def test_failed_listed_houses_write_retried(tmp_path: Path, portal: FakePortal) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    listed = blocker / "listed-houses.json"
    scraper, _ = _scraper(_farms_file(tmp_path, portal), listed_houses=listed)
    scraper.run_cycle()  # The write fails, because its folder cannot be created.
    written_before = listed.exists()
    blocker.unlink()
    scraper.run_cycle()  # No new house, but the list is still unwritten.
    scraper.close()

    assert not written_before
    lists = json.loads(listed.read_text())["farms"]["farm-good"]
    assert list(lists.values()) == [[1, 2, 3, 4, 5, 6, 7]]
