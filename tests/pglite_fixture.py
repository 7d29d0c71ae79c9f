"""Pytest fixture for the TimescaleDB lane: PGlite with TimescaleDB, served from ``deploy/pglite``.

Load it with ``pytest_plugins = ["tests.pglite_fixture"]`` in ``tests/conftest.py``. The server
keeps one in-memory database in one backend and serves one connection at a time, so a test must
close its connection before the next one can open (other connections wait in the server's
queue). The server resets the session between connections. COPY is not supported.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from migrations import apply_migrations

PGLITE_DIR = Path(__file__).resolve().parent.parent / "deploy" / "pglite"
STARTUP_TIMEOUT_SECONDS = 120.0


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _install_node_packages() -> None:
    if (PGLITE_DIR / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: install Node 20 to run the TimescaleDB lane tests")
    subprocess.run([npm, "install", "--legacy-peer-deps"], cwd=PGLITE_DIR, check=True, timeout=600)


@contextmanager
def pglite_server() -> Iterator[str]:
    """Start a PGlite TimescaleDB server on a free loopback port and yield its database URL."""
    _install_node_packages()
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found: install Node 20 to run the TimescaleDB lane tests")
    port = _free_loopback_port()
    process = subprocess.Popen(
        [node, "server.mjs", "--port", str(port), "--host", "127.0.0.1"],
        cwd=PGLITE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()
    error_lines: list[str] = []

    def watch_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("ready "):
                ready.set()

    def collect_stderr() -> None:
        assert process.stderr is not None
        error_lines.extend(process.stderr)

    threading.Thread(target=watch_stdout, daemon=True).start()
    threading.Thread(target=collect_stderr, daemon=True).start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not ready.wait(0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"PGlite server on port {port} did not become ready (exit code {process.poll()}): "
                    + "".join(error_lines[-20:])
                )
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


@pytest.fixture(scope="session")
def timescale_database_url() -> Iterator[str]:
    """URL of a PGlite TimescaleDB database with every farmstream migration applied."""
    with pglite_server() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_migrations(conn)
        yield url
