"""Errors raised by the sinks."""

from __future__ import annotations


class SinkError(Exception):
    """Base class of the sink errors."""


class DatabaseUnavailable(SinkError):
    """The database could not be reached or did not respond in time; the batch is retried later."""


class RecordRejected(SinkError):
    """A Kafka record cannot be decoded into the event its topic carries.

    ``error_type`` is a short machine-readable class (for example ``InvalidJson``) that goes into the
    dead-letter record next to the human-readable message.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class RowRejected(SinkError):
    """The database rejected the rows of a write because of their content (a constraint or a value).

    Only a write of one record turns this into a dead letter; a larger write is split to find it.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type
