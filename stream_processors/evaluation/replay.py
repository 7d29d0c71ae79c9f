"""Replay a labelled series through the processing core, the way the tuning harness scores detectors.

Each row becomes one :class:`Reading` of one house's temperature probe, one per scrape, with the
series mapped linearly into a temperature range (15 to 45 °C by default, as the portal simulator's
replay mode does). The alert openings are the detections the NAB scorer counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from schemas.events import Alert, Reading, controller_id_for
from stream_processors.core import Processor, ProcessorConfig

REPLAY_FARM = "nab-replay"
REPLAY_HOUSE = 1
REPLAY_PARAMETER = "temperature.sensor_1"


def map_linearly(values: Sequence[float], low: float, high: float) -> list[float]:
    """Map values linearly so that their minimum becomes ``low`` and their maximum ``high``."""
    smallest, largest = min(values), max(values)
    span = largest - smallest
    if span == 0:
        return [(low + high) / 2 for _ in values]
    return [low + (high - low) * (value - smallest) / span for value in values]


def series_readings(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    parameter: str = REPLAY_PARAMETER,
    low: float = 15.0,
    high: float = 45.0,
) -> list[Reading]:
    """Build one reading per row, in row order, with naive timestamps taken as UTC."""
    controller = controller_id_for(REPLAY_FARM, REPLAY_HOUSE)
    readings = []
    for moment, value in zip(timestamps, map_linearly(values, low, high), strict=True):
        observed = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        readings.append(
            Reading(
                event_id=Reading.make_id(controller, parameter, "instant", observed),
                farm_id=REPLAY_FARM,
                house_number=REPLAY_HOUSE,
                controller_id=controller,
                parameter=parameter,
                source_key="replay",
                source_command="replay",
                value=round(value, 3),
                unit="degC",
                observed_at=observed,
                fetched_at=observed,
            )
        )
    return readings


def replay_series(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    config: ProcessorConfig | None = None,
) -> list[Alert]:
    """Run a series through a fresh processor and return every alert transition it emitted."""
    processor = Processor(config)
    alerts: list[Alert] = []
    for reading in series_readings(timestamps, values):
        alerts += [event for event in processor.process(reading) if isinstance(event, Alert)]
    return alerts


def opening_times(alerts: Sequence[Alert]) -> list[datetime]:
    """Return the event times of the alerts that opened, the detections NAB counts."""
    return [alert.event_time for alert in alerts if alert.state == "open"]
