"""Replay of a recorded ``timestamp,value`` series as one temperature probe, one row per simulated step."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulator.config import STEP, ReplaySpec
from simulator.exceptions import ConfigError


@dataclass(frozen=True)
class ReplaySeries:
    """A loaded series and its linear mapping into the probe's °C range."""

    spec: ReplaySpec
    start: datetime
    timestamps: tuple[str, ...]
    values: tuple[float, ...]
    source_min: float
    source_max: float

    @classmethod
    def load(cls, spec: ReplaySpec, start: datetime) -> ReplaySeries:
        """Read the CSV; rows whose value is not a number are rejected with their line number."""
        timestamps: list[str] = []
        values: list[float] = []
        try:
            with spec.csv_path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames is None or not {"timestamp", "value"} <= set(reader.fieldnames):
                    raise ConfigError(f"replay file {spec.csv_path} needs a header with timestamp,value")
                for line, row in enumerate(reader, start=2):
                    try:
                        value = float(row["value"])
                    except (TypeError, ValueError) as error:
                        raise ConfigError(
                            f"replay file {spec.csv_path} line {line}: invalid value {row['value']!r}"
                        ) from error
                    if not math.isfinite(value):
                        raise ConfigError(
                            f"replay file {spec.csv_path} line {line}: value {value} is not finite"
                        )
                    timestamps.append(row["timestamp"])
                    values.append(value)
        except FileNotFoundError as error:
            raise ConfigError(f"replay file {spec.csv_path} not found") from error
        if not values:
            raise ConfigError(f"replay file {spec.csv_path} has no rows")
        if not 0 <= spec.start_row < len(values):
            raise ConfigError(f"replay start_row {spec.start_row} is outside the file's {len(values)} rows")
        low = spec.source_min if spec.source_min is not None else min(values)
        high = spec.source_max if spec.source_max is not None else max(values)
        if high <= low:
            raise ConfigError(f"replay source range {low}..{high} is empty; set source_min < source_max")
        return cls(spec, start, tuple(timestamps), tuple(values), low, high)

    def map_value(self, value: float) -> float:
        """Map a raw file value linearly onto the probe range in °C."""
        fraction = (value - self.source_min) / (self.source_max - self.source_min)
        return self.spec.low_c + fraction * (self.spec.high_c - self.spec.low_c)

    def row_at(self, instant: datetime) -> int:
        """Return the file row served at a simulated instant, held at the last row after the file ends."""
        step = round((instant - self.start) / STEP)
        return max(0, min(len(self.values) - 1, self.spec.start_row + step))

    def value_at(self, instant: datetime) -> float:
        """Return the probe value in °C at a simulated instant."""
        return self.map_value(self.values[self.row_at(instant)])

    def instant_of_row(self, row: int) -> datetime:
        """Return the simulated instant at which a file row is served."""
        return self.start + (row - self.spec.start_row) * STEP

    def mapping(self) -> dict[str, Any]:
        """Return the value and time mapping, for mapping alerts back to file rows."""
        scale = (self.spec.high_c - self.spec.low_c) / (self.source_max - self.source_min)
        return {
            "csv_path": str(self.spec.csv_path),
            "farm_id": self.spec.farm_id,
            "house": self.spec.house,
            "sensor": self.spec.sensor,
            "rows": len(self.values),
            "value_mapping": {
                "source_min": self.source_min,
                "source_max": self.source_max,
                "low_c": self.spec.low_c,
                "high_c": self.spec.high_c,
                "formula": "celsius = low_c + (value - source_min) * scale",
                "scale": scale,
            },
            "time_mapping": {
                "start_row": self.spec.start_row,
                "row_at_start": self.spec.start_row,
                "start": self.start.isoformat(),
                "step_seconds": STEP.total_seconds(),
                "formula": "instant = start + (row - start_row) * step_seconds",
                "first_timestamp": self.timestamps[0],
                "last_timestamp": self.timestamps[-1],
            },
            "in_controller_average": False,
        }
