"""Errors raised by the notifier."""

from __future__ import annotations


class NotifierError(Exception):
    """Base class of the notifier's errors."""


class NotifierConfigError(NotifierError):
    """The routing configuration file is missing or invalid; ``problems`` has one line per problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid notifier configuration {path} ({len(self.problems)} problems):\n{lines}")


class DeliveryError(NotifierError):
    """A delivery attempt failed.

    ``permanent`` is true when repeating the same request cannot succeed (a rejected recipient, an
    HTTP 4xx other than 408 and 429), so the delivery is recorded as failed without further retries.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
