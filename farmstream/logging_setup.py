"""Logging for the command-line entry points: one root configuration, ``key=value`` lines.

Library modules only call ``logging.getLogger(__name__)`` and pass ids through ``extra``
(``logger.info("published", extra={"farm": farm_id, "house": 3})``); this formatter appends them
as ``farm=... house=3`` so log lines can be searched by id.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    # uvicorn repeats each message with terminal colours in color_message.
    | {"message", "asctime", "taskName", "color_message"}
)


def _quote(value: Any) -> str:
    text = str(value)
    if text == "" or any(character in text for character in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    """Format a record as ``time level logger message key=value ...`` with UTC timestamps."""

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        timestamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z"
        parts = [timestamp, f"{record.levelname:<7}", record.name, record.getMessage()]
        context = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        }
        parts.extend(f"{key}={_quote(value)}" for key, value in context.items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Install the key=value handler on the root logger, replacing any handler installed before."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party clients are chatty at INFO; their warnings still come through.
    for noisy in ("aiokafka", "kafka", "faust", "mode", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
