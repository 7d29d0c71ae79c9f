"""Errors raised by the portal simulator."""

from __future__ import annotations


class SimulatorError(Exception):
    """Base class of the simulator's errors."""


class ConfigError(SimulatorError):
    """The simulator configuration, fault schedule or replay file is invalid."""
