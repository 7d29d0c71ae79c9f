"""Errors raised by the portal client and the payload parsers.

The scraper handles each class differently: a :class:`TransientPortalError` is retried with backoff
inside the cycle, a :class:`SessionExpiredError` gets one new login, a
:class:`CredentialsRejectedError` stops polling the farm, and a :class:`PayloadError` is
dead-lettered with the raw bytes it came from.
"""

from __future__ import annotations


class PortalError(Exception):
    """Base class of every failure talking to the portal or reading its payloads."""

    kind = "portal"


class TransientPortalError(PortalError):
    """A timeout, a 5xx status, a logical failure or a missing ``dsData``: worth retrying."""

    kind = "transient"


class SessionExpiredError(PortalError):
    """The portal returned ``isAuthorize`` or ``isInSession`` false, so a new login is needed."""

    kind = "session"


class CredentialsRejectedError(PortalError):
    """The portal rejected the account's username or password."""

    kind = "credentials"


class PayloadError(PortalError):
    """A response or a value that cannot be parsed. ``raw`` contains the bytes it came from."""

    kind = "payload"

    def __init__(
        self,
        message: str,
        raw: bytes = b"",
        *,
        command: str | None = None,
        house_number: int | None = None,
        source_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.command = command
        self.house_number = house_number
        self.source_key = source_key

    @property
    def error_type(self) -> str:
        """Machine-readable class name used as the dead letter's ``error_type``."""
        return type(self).__name__


class InvalidValueError(PayloadError):
    """A value that is not the number, clock time or runtime expected."""


class UnitError(PayloadError):
    """A unit type, unit sign or unit setting that the scraper cannot convert."""
