"""The simulator's default four farms on an on-demand clock, fed through ``farmstream.core_feed``."""

from __future__ import annotations

from farmstream.core_feed import FeedResult, SimulatorFeed, step_of
from simulator.config import FaultSpec, SimulatorConfig, default_config


def simulator_config(seed: int, faults: tuple[FaultSpec, ...] = ()) -> SimulatorConfig:
    """Return the default four-farm configuration with a clock that moves only on ``Portal.advance``."""
    return default_config(seed=seed, faults=faults, advance_on_scrape=False)


__all__ = ["FeedResult", "SimulatorFeed", "simulator_config", "step_of"]
