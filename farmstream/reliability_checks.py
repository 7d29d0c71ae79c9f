"""Measurements of the reliability suite after a scenario: topics, database rows, webhook deliveries.

Each function reads one source of truth in full (a topic from its first offset, a table, the
receiver's record) and the checks compare them. Nothing here starts or stops a service.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from farmstream.stack.processes import LOOPBACK

logger = logging.getLogger(__name__)

# Rules that a portal or pipeline fault could fake: the simulator injects no device fault but the one outage.
DEVICE_RULES = frozenset({"controller_alarm", "controller_offline", "controller_stale", "sensor_failed"})
LAST_UPDATE_PATTERN = re.compile(rb'"LastUpdateDT"\s*:\s*"([^"]+)"')
FRACTION_PATTERN = re.compile(r"\.\d+")


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant, dropping the fraction (the portal sends seven digits, Python reads six)."""
    return datetime.fromisoformat(FRACTION_PATTERN.sub("", text.replace("Z", "+00:00")))


@dataclass(frozen=True)
class ConsumerCheckpoint:
    """One consumer group whose committed offsets must reach the end of a topic."""

    group_id: str
    topic: str


def end_offsets(bootstrap: str, topic: str, timeout: float = 5.0) -> dict[int, int]:
    """Return the high watermark of each partition of a topic."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "farmstream-reliability-probe"})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        partitions = sorted(metadata.topics[topic].partitions)
        return {
            partition: consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)[1]
            for partition in partitions
        }
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group_id: str, topic: str, partitions: list[int]) -> dict[int, int]:
    """Return a consumer group's committed offset per partition (-1 where it committed none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
    try:
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=5.0)
        return {item.partition: item.offset for item in committed}
    finally:
        consumer.close()


def lagging_partitions(bootstrap: str, checkpoint: ConsumerCheckpoint, targets: dict[int, int]) -> int | None:
    """Return how many partitions the group has not committed up to the targets, None if Kafka fails."""
    try:
        committed = committed_offsets(bootstrap, checkpoint.group_id, checkpoint.topic, list(targets))
    except KafkaException:
        return None
    return sum(1 for partition, target in targets.items() if target > 0 and committed[partition] < target)


def read_topic(bootstrap: str, topic: str, idle_timeout: float = 30.0) -> list[dict[str, Any]]:
    """Read every event of a topic from its first offset to its current end, as decoded JSON."""
    ends = end_offsets(bootstrap, topic)
    remaining = {partition: end for partition, end in ends.items() if end > 0}
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "farmstream-reliability-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    events: list[dict[str, Any]] = []
    undecodable = 0
    try:
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in remaining])
        last_progress = time.monotonic()
        while remaining:
            batch = consumer.consume(num_messages=5000, timeout=1.0)
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > idle_timeout:
                raise RuntimeError(
                    f"reading {topic} stalled with partitions {sorted(remaining)} short of their end"
                )
            for message in batch:
                if message.error() is not None:
                    continue
                partition, offset = message.partition(), message.offset()
                if partition in remaining and offset is not None and offset + 1 >= remaining[partition]:
                    del remaining[partition]
                try:
                    events.append(json.loads(message.value() or b""))
                except ValueError:
                    undecodable += 1
    finally:
        consumer.close()
    if undecodable:
        logger.warning("undecodable events on the topic", extra={"topic": topic, "count": undecodable})
    return events


class ServedSteps:
    """House-steps that the simulator served in a complete GetSiteControllersInfo body, per farm."""

    def __init__(self, houses_per_farm: dict[str, int]) -> None:
        self.houses_per_farm = houses_per_farm
        self._lock = threading.Lock()
        self._instants: dict[str, set[datetime]] = defaultdict(set)

    def record(self, farm_id: str, body: bytes) -> None:
        """Record the instant of a served body; a cut (malformed) body does not count as served."""
        text = body.removeprefix(b"\xef\xbb\xbf")
        try:
            json.loads(text)
        except ValueError:
            return
        match = LAST_UPDATE_PATTERN.search(text)
        if match is None:
            return
        with self._lock:
            self._instants[farm_id].add(parse_instant(match.group(1).decode()))

    def house_steps(self) -> set[tuple[str, int, datetime]]:
        """Return every (farm, house, instant) served."""
        with self._lock:
            return {
                (farm_id, house, instant)
                for farm_id, instants in self._instants.items()
                for instant in instants
                for house in range(1, self.houses_per_farm[farm_id] + 1)
            }


class WebhookReceiver:
    """A local HTTP receiver for the notifier: returns 200 and records every delivered alert event id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.event_ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    event_id = str(json.loads(body)["alert"]["event_id"])
                except (ValueError, KeyError, TypeError):
                    event_id = "<undecodable>"
                with receiver.lock:
                    receiver.event_ids.append(event_id)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Check:
    """One check of a scenario: its name, whether it passed and the figures behind it."""

    name: str
    passed: bool
    detail: str


@dataclass
class Figures:
    """The measured figures of one scenario, shown in the report table."""

    readings_on_topic: int = 0
    reading_rows: int = 0
    distinct_row_ids: int = 0
    missing_rows: int = 0
    house_steps_served: int = 0
    house_steps_scraped: int = 0
    house_steps_skipped: int = 0
    alert_transitions: int = 0
    alerts_opened: int = 0
    alert_rows: int = 0
    webhook_deliveries: int = 0
    recovery_seconds: float | None = None
    agents_recovery_seconds: float | None = None
    checks: list[Check] = field(default_factory=list)


def check_readings(figures: Figures, reading_ids: set[str], database_url: str) -> None:
    """Compare the reading event ids on the topic with the readings table: none missing, none twice."""
    with psycopg.connect(database_url, connect_timeout=10) as connection:
        row = connection.execute("SELECT count(*), count(DISTINCT event_id) FROM readings").fetchone()
        stored = {str(value) for (value,) in connection.execute("SELECT event_id FROM readings")}
    assert row is not None
    figures.readings_on_topic = len(reading_ids)
    figures.reading_rows, figures.distinct_row_ids = int(row[0]), int(row[1])
    missing = reading_ids - stored
    extra = stored - reading_ids
    figures.missing_rows = len(missing)
    figures.checks.append(
        Check(
            "readings stored once",
            figures.reading_rows == figures.distinct_row_ids == len(stored),
            f"{figures.reading_rows} rows, {figures.distinct_row_ids} distinct event ids",
        )
    )
    figures.checks.append(
        Check(
            "no reading missing",
            not missing and not extra,
            f"{len(reading_ids)} on the topic, {len(missing)} missing from the table"
            + (f" (e.g. {sorted(missing)[0]})" if missing else "")
            + f", {len(extra)} rows not on the topic",
        )
    )


def check_house_steps(
    figures: Figures,
    served: set[tuple[str, int, datetime]],
    scraped: set[tuple[str, int, datetime]],
    may_skip: bool,
) -> None:
    """Compare the house-steps the simulator served with those the scraper published."""
    figures.house_steps_served = len(served)
    figures.house_steps_scraped = len(scraped & served)
    skipped = served - scraped
    unknown = scraped - served
    figures.house_steps_skipped = len(skipped)
    allowed = "allowed in this scenario" if may_skip else "none allowed in this scenario"
    figures.checks.append(
        Check(
            "house-steps scraped",
            not unknown and (may_skip or not skipped),
            f"{len(served)} served, {len(skipped)} skipped ({allowed}), "
            f"{len(unknown)} published that were never served",
        )
    )


def check_alerts(
    figures: Figures,
    transitions: list[dict[str, Any]],
    database_url: str,
    expected: dict[str, Any],
    agents_problem: str | None,
) -> None:
    """Check the alert transitions on the topic, the alerts table and the alert of the injected fault."""
    figures.alert_transitions = len(transitions)
    by_sequence: dict[tuple[str, int], set[str]] = defaultdict(set)
    for event in transitions:
        content = json.dumps({k: v for k, v in event.items() if k != "evidence"}, sort_keys=True)
        by_sequence[(event["alert_id"], int(event["sequence"]))].add(content)
    conflicting = [key for key, contents in by_sequence.items() if len(contents) > 1]
    differing = sorted({name for key in conflicting for name in _differing_fields(by_sequence[key])})
    differing += sorted(
        {f"{_field(by_sequence[key], 'rule')} {_field(by_sequence[key], 'state')}" for key in conflicting}
    )
    redelivered = len(transitions) - len(by_sequence)
    opens = Counter(alert_id for (alert_id, _), contents in by_sequence.items() if _state(contents) == "open")
    reopened = [alert_id for alert_id, count in opens.items() if count > 1]
    figures.alerts_opened = len(opens)
    overlapping = _overlapping_episodes(transitions)
    prefix = f"agents failed ({agents_problem}); " if agents_problem else ""
    figures.checks.append(
        Check(
            "alert transitions unique",
            agents_problem is None and not conflicting and not reopened and not overlapping,
            f"{prefix}{len(by_sequence)} (alert_id, sequence) pairs, {redelivered} identical redeliveries, "
            f"{len(conflicting)} conflicting"
            + (f" (differing fields, then rule and state: {', '.join(differing)})" if differing else "")
            + f", {len(reopened)} alerts opened twice, "
            f"{len(overlapping)} overlapping episodes of one subject"
            + (f" (e.g. {' '.join(overlapping[0])})" if overlapping else ""),
        )
    )

    alert_ids = {alert_id for alert_id, _ in by_sequence}
    with psycopg.connect(database_url, connect_timeout=10) as connection:
        rows = connection.execute("SELECT count(*), count(DISTINCT alert_id) FROM alerts").fetchone()
        stored = {str(value) for (value,) in connection.execute("SELECT alert_id FROM alerts")}
        event_rows = connection.execute("SELECT count(*) FROM alert_events").fetchone()
    assert rows is not None and event_rows is not None
    figures.alert_rows = int(rows[0])
    figures.checks.append(
        Check(
            "alerts stored once",
            agents_problem is None
            and int(rows[0]) == int(rows[1])
            and stored == alert_ids
            and int(event_rows[0]) == len(by_sequence),
            f"{prefix}{rows[0]} alert rows for {len(alert_ids)} alerts on the topic, "
            f"{event_rows[0]} alert_events rows for {len(by_sequence)} transitions",
        )
    )

    episodes = fault_episodes(transitions, expected)
    figures.checks.append(
        Check(
            "injected fault alerted",
            agents_problem is None and bool(episodes),
            f"{prefix}{expected['kind']} on {expected['farm_id']} house {expected['house']} "
            f"from {parse_instant(expected['start']):%H:%M} to {parse_instant(expected['end']):%H:%M} "
            "simulated: "
            + (
                f"{len(episodes)} {expected['kind']} alert open during it, opened at "
                + ", ".join(f"{opened:%H:%M:%S}" for opened in episodes)
                if episodes
                else f"no {expected['kind']} alert open during it"
            ),
        )
    )
    false_alerts = false_device_alerts(transitions, expected)
    figures.checks.append(
        Check(
            "no false device alert",
            not false_alerts,
            f"{len(false_alerts)} {', '.join(sorted(DEVICE_RULES))} alerts opened on houses without an "
            "injected fault" + (f" (e.g. {' '.join(false_alerts[0])})" if false_alerts else ""),
        )
    )


def false_device_alerts(
    transitions: list[dict[str, Any]], fault: dict[str, Any]
) -> list[tuple[str, str, str, str]]:
    """Return (farm, house, rule, subject) of each device alert opened on a house other than the fault's."""
    found = {
        (str(event["farm_id"]), str(event.get("house_number")), str(event["rule"]), str(event["subject"]))
        for event in transitions
        if event.get("state") == "open"
        and event.get("rule") in DEVICE_RULES
        and (event.get("farm_id"), event.get("house_number")) != (fault["farm_id"], fault["house"])
    }
    return sorted(found)


def fault_episodes(transitions: list[dict[str, Any]], fault: dict[str, Any]) -> list[datetime]:
    """Return when each alert of the fault's house and rule opened, for the alerts open during the fault.

    An alert counts when its episode overlaps the fault. The agents date a disconnected house by its
    last fresh portal time plus its age in scrape intervals (0.5 s in the suite). The simulated portal
    clock moves 5 minutes per cycle, so the alert may be dated just before the fault starts.
    """
    start, end = parse_instant(fault["start"]), parse_instant(fault["end"])
    spans: dict[str, tuple[datetime, datetime | None]] = {}
    for event in transitions:
        if (
            event.get("farm_id") != fault["farm_id"]
            or event.get("house_number") != fault["house"]
            or event.get("rule") != fault["kind"]
        ):
            continue
        resolved = parse_instant(event["resolved_at"]) if event.get("resolved_at") else None
        known = spans.get(event["alert_id"])
        if known is None or known[1] is None:
            spans[event["alert_id"]] = (parse_instant(event["opened_at"]), resolved)
    return sorted(
        opened
        for opened, resolved in spans.values()
        if opened <= end and (resolved is None or resolved >= start)
    )


def _differing_fields(contents: set[str]) -> set[str]:
    versions = [json.loads(text) for text in contents]
    names = set().union(*versions)
    return {name for name in names if len({json.dumps(v.get(name), sort_keys=True) for v in versions}) > 1}


def _field(contents: set[str], name: str) -> str:
    return str(json.loads(next(iter(contents))).get(name))


def _state(contents: set[str]) -> str:
    return _field(contents, "state")


def _overlapping_episodes(transitions: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Return subjects with two alert episodes open at once: a restart that forgot an open alert."""
    episodes: dict[tuple[str, str, str, str], dict[str, tuple[datetime, datetime | None]]] = defaultdict(dict)
    for event in transitions:
        key = (
            str(event["farm_id"]),
            str(event.get("house_number")),
            str(event["subject"]),
            str(event["rule"]),
        )
        opened = parse_instant(event["opened_at"])
        resolved = parse_instant(event["resolved_at"]) if event.get("resolved_at") else None
        known = episodes[key].get(event["alert_id"])
        if known is None or (resolved is not None and known[1] is None):
            episodes[key][event["alert_id"]] = (opened, resolved)
    overlapping = []
    for key, spans in episodes.items():
        ordered = sorted(spans.values(), key=lambda span: span[0])
        for (_, first_end), (second_start, _) in itertools.pairwise(ordered):
            if first_end is None or first_end > second_start:
                overlapping.append(key)
                break
    return overlapping


def check_webhook(figures: Figures, delivered: list[str], transitions: list[dict[str, Any]]) -> None:
    """Check that no alert transition reached the webhook twice and none reached it unannounced."""
    figures.webhook_deliveries = len(delivered)
    counts = Counter(delivered)
    twice = [event_id for event_id, count in counts.items() if count > 1]
    known = {str(event["event_id"]) for event in transitions}
    unknown = set(counts) - known
    figures.checks.append(
        Check(
            "webhook delivered once",
            not twice and not unknown,
            f"{len(delivered)} deliveries of {len(known)} transitions, {len(twice)} delivered twice, "
            f"{len(unknown)} not on the alerts topic",
        )
    )
