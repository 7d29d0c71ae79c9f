"""Errors of the local stack and of topic administration."""

from __future__ import annotations


class StackError(Exception):
    """A stack component could not be installed, started, checked or stopped. The message gives the reason."""


class TopicError(Exception):
    """A topic could not be created, checked or deleted on the broker."""
