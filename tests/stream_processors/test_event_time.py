"""The core's outputs are a pure function of its input events (pure unit tests, no Kafka).

Readings carry the portal's clock and scrape logs the scraper's, here months apart, as on a farm
whose controllers run on the wrong time zone or a simulator started on another date.
"""

from __future__ import annotations

from datetime import timedelta

from sp_events import START, STEP, make_reading, make_scrape_log, make_status

from schemas.events import Alert
from stream_processors.checkpoint import decode_checkpoint, encode_checkpoint
from stream_processors.core import InputEvent, Output, Processor, ProcessorState

SCRAPER_START = START + timedelta(days=224, hours=3, seconds=41)
HOUSES = (1, 2, 3)


def _farm_events(
    cycles: int = 60, *, stopped: range = range(0), failed: range = range(0)
) -> list[InputEvent]:
    """Return one farm's scrape cycles, with no data from the house-3 controller during ``stopped``."""
    events: list[InputEvent] = []
    for cycle in range(cycles):
        portal_at = START + cycle * STEP
        log = make_scrape_log(SCRAPER_START + cycle * STEP, "failed" if cycle in failed else "success")
        house_events: list[InputEvent] = []
        if cycle not in failed:
            for house in HOUSES:
                if house == 3 and cycle in stopped:
                    continue
                co2 = 3400.0 if house == 1 and 5 <= cycle < 12 else 1500.0
                house_events.append(make_reading("co2", co2, portal_at, house=house, unit="ppm"))
                house_events.append(make_reading("temperature.average", 25.0, portal_at, house=house))
                house_events.append(make_status(portal_at, house=house))
        # The scrape log arrives before the cycle's readings on one cycle and after on the next.
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


def test_stopped_controller_warns_escalates_resolves() -> None:
    outputs = _run(Processor(), _farm_events(stopped=range(10, 20)))
    stale = _stale(outputs)
    assert [(alert.state, alert.severity) for alert in stale] == [
        ("open", "warning"),
        ("reminder", "critical"),
        ("resolved", "critical"),
    ]
    assert {alert.house_number for alert in stale} == {3}
    assert len({alert.alert_id for alert in stale}) == 1
    # Measured in portal time against the last complete cycle; the last reading was at cycle 9.
    assert stale[0].event_time == START + 11 * STEP
    assert stale[1].event_time == START + 13 * STEP
    assert stale[2].event_time == START + 20 * STEP


def test_failed_scrapes_leave_controllers_fresh() -> None:
    outputs = _run(Processor(), _farm_events(failed=range(20, 30)))
    assert _stale(outputs) == []
    failed = [o for o in outputs if isinstance(o, Alert) and o.rule == "scraper_failed"]
    assert [alert.state for alert in failed] == ["open", "resolved"]


def test_replay_gives_identical_outputs() -> None:
    events = _farm_events(stopped=range(10, 20), failed=range(30, 34))
    first = _run(Processor(), events)
    second = _run(Processor(), events)
    assert len(_stale(first)) == 3
    assert [output.to_bytes() for output in first] == [output.to_bytes() for output in second]


def test_restore_midway_continues_same_outputs() -> None:
    events = _farm_events(stopped=range(10, 20), failed=range(30, 34))
    # The start of cycle 16: ten cycles of 10 events, then six of 7 while house 3 is stopped.
    # The stale alert of house 3 is open when the checkpoint is taken.
    midway = 10 * 10 + 6 * 7
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
