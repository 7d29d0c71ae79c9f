"""Running the `farmstream` command in a subprocess, as the evaluation tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_farmstream(
    *arguments: str, bootstrap: str | None = None, timeout: float = 600.0
) -> subprocess.CompletedProcess[str]:
    """Run `farmstream ARGUMENTS` from the checkout and return its exit code and output.

    ``bootstrap`` sets FARMSTREAM_KAFKA_BOOTSTRAP for the run; without it the environment's value stays.
    """
    environment = dict(os.environ)
    if bootstrap is not None:
        environment["FARMSTREAM_KAFKA_BOOTSTRAP"] = bootstrap
    return subprocess.run(
        [sys.executable, "-m", "farmstream.cli", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
