"""`farmstream simulator`."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("simulator", help="(not built yet)")
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    raise SystemExit("farmstream simulator: not built yet")
