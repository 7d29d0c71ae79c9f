"""Score alerts against a simulator's ground truth of injected faults.

The ground truth is a JSON list of faults, each ``{"fault_id", "kind", "farm_id", "house_number",
"start", "end"}`` with ISO 8601 times (``house_number`` may be null for a farm-wide fault such as
bad portal credentials), plus optionally ``{"houses": [[farm_id, house_number], ...],
"start", "end"}`` describing every house simulated, so that fault-free houses can be counted.

An alert opening or a failure prediction matches a fault when it concerns the same farm and
house (any house of the farm for a farm-wide fault) and its event time lies between the fault's
start and its end plus a grace period.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.events import Alert, FailurePrediction

WEEK_SECONDS = 7 * 24 * 3600.0


class GroundTruthError(ValueError):
    """A ground-truth file that cannot be read."""


@dataclass(frozen=True)
class Fault:
    """One injected fault."""

    fault_id: str
    kind: str
    farm_id: str
    house_number: int | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Detection:
    """An alert opening or a failure prediction, reduced to what matching needs."""

    farm_id: str
    house_number: int | None
    at: datetime
    label: str


@dataclass
class GroundTruth:
    """The faults of one run and the houses and time span it simulated."""

    faults: list[Fault]
    houses: list[tuple[str, int]] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class KindFigures:
    """Detection figures of one fault kind."""

    kind: str
    faults: int
    detected: int
    matched_detections: int
    median_seconds_to_detect: float | None

    @property
    def recall(self) -> float:
        return self.detected / self.faults if self.faults else 0.0


@dataclass
class FaultReport:
    """Figures over a whole run."""

    kinds: list[KindFigures]
    recall: float
    precision: float
    median_seconds_to_detect: float | None
    false_alarms_per_house_week: float | None
    detections: int


def _time(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise GroundTruthError(f"{where}: invalid time {value!r}: use ISO 8601 with an offset") from None
    if moment.tzinfo is None:
        raise GroundTruthError(f"{where}: time {value!r} has no UTC offset")
    return moment


def read_ground_truth(path: Path) -> GroundTruth:
    """Read a ground-truth JSON file (a list of faults, or an object with faults and houses)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise GroundTruthError(f"{path}: cannot read ground truth: {error}") from None
    raw_faults = document if isinstance(document, list) else document.get("faults", [])
    faults = []
    for index, item in enumerate(raw_faults):
        where = f"{path} fault {index}"
        try:
            faults.append(
                Fault(
                    fault_id=str(item["fault_id"]),
                    kind=str(item["kind"]),
                    farm_id=str(item["farm_id"]),
                    house_number=None if item.get("house_number") is None else int(item["house_number"]),
                    start=_time(item["start"], where),
                    end=_time(item["end"], where),
                )
            )
        except KeyError as error:
            raise GroundTruthError(f"{where}: missing field {error}") from None
    truth = GroundTruth(faults=faults)
    if isinstance(document, dict):
        truth.houses = [(str(farm), int(house)) for farm, house in document.get("houses", [])]
        if document.get("start"):
            truth.start = _time(document["start"], f"{path} start")
        if document.get("end"):
            truth.end = _time(document["end"], f"{path} end")
    return truth


def detections_from(events: Sequence[Alert | FailurePrediction]) -> list[Detection]:
    """Keep alert openings and failure predictions, the events that tell a person something new."""
    detections = []
    for event in events:
        if isinstance(event, Alert) and event.state == "open":
            detections.append(Detection(event.farm_id, event.house_number, event.event_time, event.rule))
        elif isinstance(event, FailurePrediction):
            detections.append(
                Detection(event.farm_id, event.house_number, event.predicted_at, "failure_prediction")
            )
    return detections


def _matches(fault: Fault, detection: Detection, grace: timedelta) -> bool:
    if detection.farm_id != fault.farm_id:
        return False
    if fault.house_number is not None and detection.house_number != fault.house_number:
        return False
    return fault.start <= detection.at <= fault.end + grace


def score_faults(
    truth: GroundTruth, detections: Sequence[Detection], grace_seconds: float = 900.0
) -> FaultReport:
    """Compute recall, precision, time to detect and false alarms per house per week."""
    grace = timedelta(seconds=grace_seconds)
    by_kind: dict[str, list[Fault]] = defaultdict(list)
    for fault in truth.faults:
        by_kind[fault.kind].append(fault)

    matched_detections: set[int] = set()
    kinds: list[KindFigures] = []
    all_delays: list[float] = []
    detected_total = 0
    for kind, faults in sorted(by_kind.items()):
        delays: list[float] = []
        kind_matched: set[int] = set()
        for fault in faults:
            hits = [i for i, d in enumerate(detections) if _matches(fault, d, grace)]
            kind_matched.update(hits)
            in_time = [detections[i].at for i in hits if detections[i].at <= fault.end]
            if in_time:
                delays.append((min(in_time) - fault.start).total_seconds())
        matched_detections |= kind_matched
        detected_total += len(delays)
        all_delays += delays
        kinds.append(
            KindFigures(
                kind=kind,
                faults=len(faults),
                detected=len(delays),
                matched_detections=len(kind_matched),
                median_seconds_to_detect=statistics.median(delays) if delays else None,
            )
        )

    faulty_houses = {(f.farm_id, f.house_number) for f in truth.faults}
    faulty_farms = {f.farm_id for f in truth.faults if f.house_number is None}
    clean = [h for h in truth.houses if h not in faulty_houses and h[0] not in faulty_farms]
    false_alarm_rate: float | None = None
    if clean and truth.start and truth.end and truth.end > truth.start:
        weeks = (truth.end - truth.start).total_seconds() / WEEK_SECONDS
        clean_set = set(clean)
        on_clean = [d for d in detections if (d.farm_id, d.house_number) in clean_set]
        false_alarm_rate = len(on_clean) / (len(clean) * weeks)
    return FaultReport(
        kinds=kinds,
        recall=detected_total / len(truth.faults) if truth.faults else 0.0,
        precision=len(matched_detections) / len(detections) if detections else 0.0,
        median_seconds_to_detect=statistics.median(all_delays) if all_delays else None,
        false_alarms_per_house_week=false_alarm_rate,
        detections=len(detections),
    )


def format_report(report: FaultReport) -> list[str]:
    """Return the report as printable lines, one per fault kind and a total line last."""

    def minutes(seconds: float | None) -> str:
        return "n/a" if seconds is None else f"{seconds / 60:.1f}"

    lines = [
        f"kind={k.kind} faults={k.faults} recall={k.recall:.3f} "
        f"median_minutes_to_detect={minutes(k.median_seconds_to_detect)}"
        for k in report.kinds
    ]
    rate = report.false_alarms_per_house_week
    lines.append(
        f"recall={report.recall:.3f} precision={report.precision:.3f} "
        f"median_minutes_to_detect={minutes(report.median_seconds_to_detect)} "
        f"false_alarms_per_house_week={'n/a' if rate is None else f'{rate:.3f}'}"
    )
    return lines
