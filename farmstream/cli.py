"""The ``farmstream`` command: one subcommand per long-running service and per operator task."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

import psycopg
from pydantic import ValidationError

from farmstream.logging_setup import configure_logging

logger = logging.getLogger(__name__)

# Each module in farmstream.commands defines register(subparsers) and sets func on its parsers.
COMMAND_MODULES = (
    "stack",
    "topics",
    "migrate",
    "parse",
    "scrape",
    "simulator",
    "agents",
    "evaluate",
    "sink",
    "api",
    "apikey",
    "notifier",
    "demo",
    "reliability",
)


class CommandError(Exception):
    """An operator-facing failure: printed as one line, exit status 1."""


def describe_validation_error(error: ValidationError) -> str:
    """Return one line naming each invalid setting as its FARMSTREAM_* variable, with the fix."""
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "value"
        variable = "FARMSTREAM_" + field.upper()
        problems.append(f"{variable}: {item['msg']} (got {item.get('input')!r})")
    return (
        "invalid configuration: " + "; ".join(problems) + ". Set the variable in the environment or in .env."
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="farmstream", description=__doc__)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("FARMSTREAM_LOG_LEVEL", "INFO"),
        help="Logging level: DEBUG, INFO, WARNING or ERROR (default from FARMSTREAM_LOG_LEVEL, else INFO).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"farmstream.commands.{name}")
        module.register(subparsers)
    # A command's --help opens with its one-line help when it sets no description of its own.
    for action in subparsers._choices_actions:
        command = subparsers.choices[action.dest]
        if command.description is None:
            command.description = action.help
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        parser.error(
            f"invalid log level {arguments.log_level!r} (from --log-level or FARMSTREAM_LOG_LEVEL): "
            "use DEBUG, INFO, WARNING or ERROR"
        )
    configure_logging(arguments.log_level)
    try:
        status: int = arguments.func(arguments)
    except ValidationError as error:
        print(f"farmstream: {describe_validation_error(error)}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"farmstream: {error}", file=sys.stderr)
        return 1
    except psycopg.ProgrammingError as error:
        # An unparseable connection string; the message never contains the password.
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"farmstream: invalid FARMSTREAM_DATABASE_URL: {first_line}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(
            f"farmstream: database unreachable: {first_line}. Check FARMSTREAM_DATABASE_URL and that "
            "PostgreSQL runs (farmstream stack status).",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # The reader of our output went away (for example `farmstream apikey list | head`).
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
