"""Errors raised by the stream processors."""

from __future__ import annotations


class StreamProcessorError(Exception):
    """Base class of the stream processors' errors."""


class InvalidEventError(StreamProcessorError):
    """An input message that is not a valid event of its topic; it goes to the dead-letter topic."""

    def __init__(self, reason: str, error_type: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


class CheckpointMismatchError(StreamProcessorError):
    """A checkpoint written by another format or River version; the state must restart from empty."""
