"""The core's outputs are a pure function of each partition's events (pure unit tests, no Kafka).

Readings and house statuses carry the portal's clock (``observed_at``), house statuses and scrape
logs also the scraper's (``fetched_at``, ``finished_at``), here months apart, as on a farm whose
controllers run on the wrong time zone or a simulator started on another date.
"""

from __future__ import annotations

from datetime import timedelta

from sp_events import START, STEP, make_reading, make_scrape_log, make_status

from schemas.events import Alert, ScrapeLog
from stream_processors.checkpoint import decode_checkpoint, encode_checkpoint
from stream_processors.core import InputEvent, Output, Processor, ProcessorState
from stream_processors.worker import OutgoingMessage, PartitionWorker, TopicNames

SCRAPER_START = START + timedelta(days=224, hours=3, seconds=41)
HOUSES = (1, 2, 3)
TOPICS = TopicNames(
    readings="t.readings",
    scrape_log="t.scrape-log",
    alerts="t.alerts",
    predictions="t.predictions",
    dead_letter="t.dead-letter",
    checkpoints="t.checkpoints",
)


def _fetch_time(cycle: int) -> timedelta:
    """Scraper time of a cycle, with the few seconds of jitter of a real scrape."""
    return cycle * STEP + timedelta(seconds=(cycle * 7) % 13 - 6)


def _farm_events(
    cycles: int = 60, *, frozen: range = range(0), offline: range = range(0), failed: range = range(0)
) -> list[InputEvent]:
    """Return one farm's scrape cycles; house 3's controller freezes or goes offline in the given cycles."""
    events: list[InputEvent] = []
    for cycle in range(cycles):
        portal_at = START + cycle * STEP
        fetched = SCRAPER_START + _fetch_time(cycle)
        log = make_scrape_log(fetched, "failed" if cycle in failed else "success")
        house_events: list[InputEvent] = []
        if cycle not in failed:
            for house in HOUSES:
                if house == 3 and cycle in offline:
                    house_events.append(make_status(fetched, house=3, connection="offline", fetched=fetched))
                    continue
                stuck = house == 3 and cycle in frozen
                at = START + (frozen.start - 1) * STEP if stuck else portal_at
                co2 = 3400.0 if house == 1 and 5 <= cycle < 12 else 1500.0
                if not stuck:
                    house_events.append(make_reading("co2", co2, at, house=house, unit="ppm"))
                    house_events.append(make_reading("temperature.average", 25.0, at, house=house))
                house_events.append(make_status(at, house=house, fetched=fetched))
        # The scrape log comes before the cycle's readings on one cycle and after them on the next.
        events += [log, *house_events] if cycle % 2 else [*house_events, log]
    return events


def _run(processor: Processor, events: list[InputEvent]) -> list[Output]:
    return [output for event in events for output in processor.process(event)]


def _stale(outputs: list[Output], house: int | None = None) -> list[Alert]:
    return [
        output
        for output in outputs
        if isinstance(output, Alert)
        and output.rule == "controller_stale"
        and (house is None or output.house_number == house)
    ]


def _state_after(events: list[InputEvent], count: int) -> ProcessorState:
    processor = Processor()
    _run(processor, events[:count])
    return processor.state


def _restored(state: ProcessorState) -> Processor:
    _, messages = encode_checkpoint(0, 99, state, None, {})
    decoded = decode_checkpoint(0, dict(messages))
    assert decoded is not None
    return Processor(state=decoded[1])


def test_far_portal_clock_not_stale() -> None:
    outputs = _run(Processor(), _farm_events())
    assert _stale(outputs) == []


def test_frozen_controller_warns_escalates_resolves() -> None:
    outputs = _run(Processor(), _farm_events(frozen=range(10, 20)))
    stale = _stale(outputs)
    assert [(alert.state, alert.severity) for alert in stale] == [
        ("open", "warning"),
        ("reminder", "critical"),
        ("resolved", "critical"),
    ]
    assert {alert.house_number for alert in stale} == {3}
    assert len({alert.alert_id for alert in stale}) == 1
    # Dated on the portal clock: the last fresh portal time (cycle 9) plus the scraper time since.
    assert abs(stale[0].event_time - (START + 11 * STEP)) < timedelta(seconds=15)
    assert abs(stale[1].event_time - (START + 13 * STEP)) < timedelta(seconds=15)
    assert abs(stale[2].event_time - (START + 20 * STEP)) < timedelta(seconds=15)


def test_offline_controller_goes_stale() -> None:
    outputs = _run(Processor(), _farm_events(offline=range(10, 20)))
    offline = [o for o in outputs if isinstance(o, Alert) and o.rule == "controller_offline"]
    assert [alert.state for alert in offline] == ["open", "resolved"]
    assert [(alert.state, alert.severity) for alert in _stale(outputs, 3)] == [
        ("open", "warning"),
        ("reminder", "critical"),
        ("resolved", "critical"),
    ]
    # The offline status carries the fetch time, months ahead, yet the alerts stay on the portal clock.
    assert all(alert.event_time < START + 30 * STEP for alert in offline)


def test_failed_scrapes_leave_controllers_fresh() -> None:
    outputs = _run(Processor(), _farm_events(failed=range(20, 30)))
    assert _stale(outputs) == []
    failed = [o for o in outputs if isinstance(o, Alert) and o.rule == "scraper_failed"]
    assert [alert.state for alert in failed] == ["open", "resolved"]


def test_replay_gives_identical_outputs() -> None:
    events = _farm_events(frozen=range(10, 20), failed=range(30, 34))
    first = _run(Processor(), events)
    second = _run(Processor(), events)
    assert len(_stale(first)) == 3
    assert [output.to_bytes() for output in first] == [output.to_bytes() for output in second]


def test_restore_midway_continues_same_outputs() -> None:
    events = _farm_events(frozen=range(10, 20), failed=range(30, 34))
    # The start of cycle 16: ten cycles of 10 events, then six of 8 while house 3 is frozen.
    # The stale alert of house 3 is open when the checkpoint is taken.
    midway = 10 * 10 + 6 * 8
    processor = Processor()
    before = _run(processor, events[:midway])
    after = _run(processor, events[midway:])
    assert [alert.state for alert in _stale(before)] == ["open", "reminder"]

    restored = _restored(_state_after(events, midway))
    # A replay from the start (offsets not yet committed) re-emits nothing the checkpoint covers.
    replayed = _run(restored, events)
    assert [output.to_bytes() for output in replayed] == [output.to_bytes() for output in after]
    assert [alert.state for alert in _stale(replayed)] == ["resolved"]
    assert _stale(replayed)[0].alert_id == _stale(before)[0].alert_id


def _through_worker(events: list[InputEvent], scrape_logs_first: bool) -> list[OutgoingMessage]:
    """Feed events to a worker as two topics, the scrape logs either first or interleaved."""
    worker = PartitionWorker(topics=TOPICS)
    offsets = {TOPICS.readings: 0, TOPICS.scrape_log: 0}
    messages: list[tuple[str, bytes]] = []
    for event in events:
        topic = TOPICS.scrape_log if isinstance(event, ScrapeLog) else TOPICS.readings
        messages.append((topic, event.to_bytes()))
    if scrape_logs_first:
        messages.sort(key=lambda message: message[0] != TOPICS.scrape_log)
    outputs: list[OutgoingMessage] = []
    for topic, value in messages:
        outputs += worker.handle(topic, 0, offsets[topic], value)
        offsets[topic] += 1
    return outputs


def test_backlog_order_changes_nothing() -> None:
    # A worker catching up reads the small scrape-log topic far ahead of the readings.
    events = _farm_events(frozen=range(10, 20), offline=range(30, 36), failed=range(40, 44))
    live = _through_worker(events, scrape_logs_first=False)
    backlog = _through_worker(events, scrape_logs_first=True)
    assert sorted(message.value for message in live) == sorted(message.value for message in backlog)
    assert [message for message in live if message.topic == TOPICS.dead_letter] == []
    rules = {Alert.model_validate_json(m.value).rule for m in live if m.topic == TOPICS.alerts}
    assert {"controller_stale", "controller_offline", "scraper_failed"} <= rules
