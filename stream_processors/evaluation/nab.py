"""The NAB standard score of one labelled series, computed from row indices.

The rules follow the Numenta Anomaly Benchmark's standard profile (true-positive weight 1.0,
false-positive weight 0.11, false-negative weight 1.0): a warm-up of min(floor(0.15 N), 750) rows
is ignored, the earliest detection in a window is rewarded by a scaled sigmoid of its position,
a missed window costs 1.0, and a false alarm costs up to 0.11 depending on how long after the
previous window it fires.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

TRUE_POSITIVE_WEIGHT = 1.0
FALSE_POSITIVE_WEIGHT = 0.11
FALSE_NEGATIVE_WEIGHT = 1.0
PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 750


class NabInputError(ValueError):
    """A data, labels or detections file that cannot be scored."""


def scaled_sigmoid(position: float) -> float:
    """Return 2·σ(-5p) - 1, clamped to -1 for p > 3, the NAB reward curve."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(row_count: int) -> int:
    """Return the number of warm-up rows whose detections NAB ignores."""
    return min(math.floor(PROBATION_FRACTION * row_count), PROBATION_CAP_ROWS)


@dataclass(frozen=True)
class Window:
    """An inclusive range of row indices labelled anomalous."""

    first: int
    last: int

    @property
    def width(self) -> int:
        return self.last - self.first + 1


@dataclass
class NabScore:
    """The score of one series and how it was made up."""

    score: float
    true_positives: int
    false_negatives: int
    false_positives: int
    window_rewards: list[float] = field(default_factory=list)
    false_positive_costs: list[float] = field(default_factory=list)


def score_detections(row_count: int, windows: Sequence[Window], detections: Iterable[int]) -> NabScore:
    """Score detections (row indices) against windows with the NAB standard profile."""
    probation = probation_rows(row_count)
    ordered = sorted(windows, key=lambda window: window.first)
    for window in ordered:
        if not 0 <= window.first <= window.last < row_count:
            raise NabInputError(f"window rows {window.first}..{window.last} outside 0..{row_count - 1}")
    counted = [window for window in ordered if window.first >= probation]
    max_reward = scaled_sigmoid(-1.0)

    rewards: dict[int, float] = {}
    costs: list[float] = []
    for row in sorted(set(detections)):
        if row < probation or row >= row_count:
            continue
        inside = next((w for w in ordered if w.first <= row <= w.last), None)
        if inside is not None:
            if inside in counted and inside.first not in rewards:
                position = -(inside.last - row + 1) / inside.width
                rewards[inside.first] = scaled_sigmoid(position) * TRUE_POSITIVE_WEIGHT / max_reward
            continue
        previous = [w for w in ordered if w.last < row]
        if not previous:
            costs.append(-FALSE_POSITIVE_WEIGHT)
            continue
        last_window = previous[-1]
        position = abs(last_window.last - row) / (last_window.width - 1)
        costs.append(scaled_sigmoid(position) * FALSE_POSITIVE_WEIGHT)

    missed = len(counted) - len(rewards)
    total = sum(rewards.values()) + sum(costs) - FALSE_NEGATIVE_WEIGHT * missed
    return NabScore(
        score=total,
        true_positives=len(rewards),
        false_negatives=missed,
        false_positives=len(costs),
        window_rewards=[rewards[w.first] for w in counted if w.first in rewards],
        false_positive_costs=costs,
    )


def parse_timestamp(text: str) -> datetime:
    """Parse a NAB timestamp such as ``2013-12-10 06:25:00.000000`` (naive, as NAB writes them)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise NabInputError(f"invalid timestamp {text!r}: expected YYYY-MM-DD HH:MM:SS") from None


def read_series(path: Path) -> tuple[list[datetime], list[float]]:
    """Read a NAB data file (``timestamp,value``) into timestamps and values, in file order."""
    timestamps: list[datetime] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"timestamp", "value"} <= set(reader.fieldnames):
            raise NabInputError(f"{path}: expected the columns timestamp,value, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                values.append(float(row["value"]))
            except ValueError:
                raise NabInputError(f"{path}:{line}: invalid value {row['value']!r}") from None
            timestamps.append(parse_timestamp(row["timestamp"]))
    if not timestamps:
        raise NabInputError(f"{path}: no rows")
    return timestamps, values


def read_windows(labels_path: Path, data_name: str, timestamps: Sequence[datetime]) -> list[Window]:
    """Read the windows of one data file from a NAB labels JSON and map them to row ranges."""
    try:
        labels = json.loads(labels_path.read_text())
    except json.JSONDecodeError as error:
        raise NabInputError(f"{labels_path}: invalid JSON: {error}") from None
    entry = labels.get(data_name) if isinstance(labels, dict) else None
    if entry is None:
        # NAB keys labels by the data file's path relative to its corpus; accept any suffix match.
        matches = [key for key in labels if str(key).endswith("/" + data_name) or key == data_name]
        if len(matches) != 1:
            raise NabInputError(f"{labels_path}: no label entry for {data_name!r}")
        entry = labels[matches[0]]
    raw_windows = entry["windows"] if isinstance(entry, dict) else entry
    windows: list[Window] = []
    for start_text, end_text in raw_windows:
        start, end = parse_timestamp(start_text), parse_timestamp(end_text)
        rows = [index for index, stamp in enumerate(timestamps) if start <= stamp <= end]
        if not rows:
            raise NabInputError(f"{labels_path}: window {start_text}..{end_text} contains no data row")
        windows.append(Window(rows[0], rows[-1]))
    return windows


def read_detections(path: Path, timestamps: Sequence[datetime], threshold: float) -> list[int]:
    """Return the rows of a NAB results file whose anomaly_score is at or above the threshold."""
    index = {stamp: row for row, stamp in enumerate(timestamps)}
    detections: list[int] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"timestamp", "anomaly_score"} <= set(reader.fieldnames):
            raise NabInputError(f"{path}: expected timestamp and anomaly_score columns")
        for line, row in enumerate(reader, start=2):
            stamp = parse_timestamp(row["timestamp"])
            if stamp not in index:
                raise NabInputError(f"{path}:{line}: timestamp {row['timestamp']} is not in the data file")
            try:
                score = float(row["anomaly_score"])
            except ValueError:
                raise NabInputError(
                    f"{path}:{line}: invalid anomaly_score {row['anomaly_score']!r}"
                ) from None
            if score >= threshold:
                detections.append(index[stamp])
    return detections


def rows_for_times(times: Iterable[datetime], timestamps: Sequence[datetime]) -> list[int]:
    """Map detection times to data rows: each time goes to the last row at or before it."""
    naive = [stamp.replace(tzinfo=None) for stamp in timestamps]
    rows: list[int] = []
    for moment in times:
        plain = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        row = bisect.bisect_right(naive, plain) - 1
        if row >= 0:
            rows.append(row)
    return rows
