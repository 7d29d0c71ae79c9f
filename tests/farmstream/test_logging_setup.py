"""Unit tests of the key=value log formatter and the root logger set-up."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from farmstream.logging_setup import KeyValueFormatter, configure_logging


def _record(
    message: str, extra: dict[str, object] | None = None, level: int = logging.INFO
) -> logging.LogRecord:
    logger = logging.getLogger("farmstream.test")
    return logger.makeRecord("farmstream.test", level, __file__, 1, message, (), None, extra=extra)


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_formatter_appends_context_fields() -> None:
    record = _record(
        "published", {"farm": "farm-a", "house": 3, "topic": "farmstream.readings", "offset": 42}
    )

    line = KeyValueFormatter().format(record)

    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO    farmstream\.test published ", line)
    assert line.endswith("farm=farm-a house=3 topic=farmstream.readings offset=42")


def test_formatter_quotes_spaces_and_quotes() -> None:
    record = _record("failed", {"reason": 'bad "unit" value', "empty": ""})

    line = KeyValueFormatter().format(record)

    assert 'reason="bad \\"unit\\" value"' in line
    assert 'empty=""' in line


def test_formatter_drops_coloured_copy() -> None:
    record = _record("Started server", {"color_message": "\x1b[1mStarted\x1b[0m server", "port": 8000})

    line = KeyValueFormatter().format(record)

    assert line.endswith("Started server port=8000")


def test_formatter_adds_traceback() -> None:
    try:
        raise ValueError("broken payload")
    except ValueError:
        record = logging.getLogger("farmstream.test").makeRecord(
            "farmstream.test", logging.ERROR, __file__, 1, "parse failed", (), sys.exc_info()
        )

    lines = KeyValueFormatter().format(record).splitlines()

    assert lines[0].endswith("parse failed")
    assert lines[-1] == "ValueError: broken payload"


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_logging_sets_level() -> None:
    stream = io.StringIO()

    configure_logging("warning", stream)
    logging.getLogger("farmstream.test").info("hidden")
    logging.getLogger("farmstream.test").warning("shown", extra={"farm": "farm-b"})

    output = stream.getvalue()
    assert "hidden" not in output
    assert output.strip().endswith("shown farm=farm-b")
    assert len(logging.getLogger().handlers) == 1
