"""Feed the portal simulator through the producers' parser into the processing core, in one process.

No HTTP and no Kafka. Each step renders the payloads a scrape cycle would fetch: GetSiteControllersInfo
per farm, then command 0 per connected house. The producers' parser reads them as the scraper does,
and the readings, house statuses and scrape logs go to one :class:`Processor`. Every house state is
keyed by farm and house, so one processor gives the outputs of the pipeline's one processor per
partition. History commands are not fetched: the agents do not read them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from producers.parser import ParseContext, build_command, build_site_info
from producers.site_info import read_site_info
from producers.tables import read_command_data
from producers.units import UnitSettings
from schemas.events import Alert, FailurePrediction, HouseStatus, Reading, ScrapeLog
from simulator.config import STEP, SimulatorConfig
from simulator.portal import Portal
from simulator.static import user_info
from stream_processors.core import Output, Processor


class CoreFeedError(RuntimeError):
    """A simulator payload that the producers' parser could not turn into events."""


@dataclass
class FeedResult:
    """Outputs of the processor over a run, and the counts of events it was fed."""

    outputs: list[Output] = field(default_factory=list)
    readings: int = 0
    statuses: int = 0
    steps: int = 0

    def alerts(self) -> list[Alert]:
        """Return every alert transition."""
        return [event for event in self.outputs if isinstance(event, Alert)]

    def openings(self) -> list[Alert]:
        """Return the alerts that opened."""
        return [event for event in self.alerts() if event.state == "open"]

    def predictions(self) -> list[FailurePrediction]:
        """Return the failure predictions."""
        return [event for event in self.outputs if isinstance(event, FailurePrediction)]


class SimulatorFeed:
    """One simulator run parsed cycle by cycle, the way the scraper would see it."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.portal = Portal(config)
        self.units = {
            farm.farm_id: UnitSettings.from_user_info(user_info(farm, "token", config.start))
            for farm in config.farms
        }
        self.zones = {farm.farm_id: ZoneInfo(farm.timezone) for farm in config.farms}

    def cycle(self) -> Iterator[Reading | HouseStatus | ScrapeLog]:
        """Yield the events of one scrape cycle of every farm at the current step, then a scrape log each."""
        for farm in self.config.farms:
            farm_id = farm.farm_id
            site = read_site_info(json.loads(self.portal.site_controllers_info_json(farm_id)))
            fetched = self.config.start + self.portal.step * STEP
            context = ParseContext(
                farm_id, self.zones[farm_id], fetched, self.units[farm_id], site.last_update
            )
            houses = build_site_info(site, context)
            connected = 0
            for site_house in houses:
                result = site_house
                if site_house.connection_status == "connected":
                    connected += 1
                    text = self.portal.command_json(farm_id, site_house.house_number, 0)
                    if text is None:
                        raise CoreFeedError(
                            f"the simulator served no command 0 for connected house "
                            f"{site_house.house_number} of farm {farm_id} at {fetched.isoformat()}"
                        )
                    data = read_command_data({"dsData": json.loads(text)})
                    result = build_command(
                        data, command_id=0, house_number=site_house.house_number, context=context
                    )
                    result.merge(site_house)
                    result.connection_status = site_house.connection_status
                    result.alarm_codes = list(site_house.alarm_codes)
                yield from result.readings
                yield result.status(context)
            cycle_id = fetched.isoformat()
            yield ScrapeLog(
                event_id=ScrapeLog.make_id(farm_id, cycle_id),
                farm_id=farm_id,
                cycle_id=cycle_id,
                outcome="success",
                started_at=fetched,
                finished_at=fetched,
                duration_seconds=0.0,
                houses_total=len(houses),
                houses_connected=connected,
                readings_published=0,
                dead_letters=0,
                requests=1 + connected,
                retries=0,
            )

    def run(self, steps: int, processor: Processor | None = None) -> FeedResult:
        """Run ``steps`` scrape cycles through a processor and collect what it emits."""
        processor = processor or Processor()
        result = FeedResult()
        for _ in range(steps):
            for event in self.cycle():
                if isinstance(event, Reading):
                    result.readings += 1
                elif isinstance(event, HouseStatus):
                    result.statuses += 1
                result.outputs += processor.process(event)
            self.portal.advance(1)
            result.steps += 1
        return result

    def ground_truth(self) -> dict[str, Any]:
        """Return the simulator's ground truth, the same document a pipeline run writes."""
        return self.portal.ground_truth()


@dataclass
class CoreRunOutput:
    """Outputs of a core-only run, shaped like a pipeline run's for the same scorers."""

    alerts: list[Alert]
    predictions: list[FailurePrediction]
    ground_truth: dict[str, Any]
    steps: int
    input_messages: int
    total_seconds: float


def run_core(config: SimulatorConfig, steps: int) -> CoreRunOutput:
    """Feed ``steps`` simulated steps of ``config`` through the parser and one processor."""
    started = time.monotonic()
    feed = SimulatorFeed(config)
    result = feed.run(steps)
    return CoreRunOutput(
        alerts=result.alerts(),
        predictions=result.predictions(),
        ground_truth=feed.ground_truth(),
        steps=result.steps,
        input_messages=result.readings + result.statuses + result.steps * len(config.farms),
        total_seconds=time.monotonic() - started,
    )


def step_of(config: SimulatorConfig, instant: datetime) -> int:
    """Return the simulator step at a UTC instant."""
    return round((instant.astimezone(UTC) - config.start) / STEP)
