"""`farmstream api` start-up: options given to uvicorn.run (replaced by a recorder, no server starts),
the workers' shared port, and real worker processes stopping together.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from farmstream.cli import CommandError, main
from farmstream.commands.api import listening_sockets
from tests.api.conftest import closed_loopback_port


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """Record the arguments of each uvicorn.run call instead of serving."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.setenv("FARMSTREAM_API_PORT", "18000")
    yield calls
    gc.unfreeze()  # `farmstream api` froze this test process's objects before calling uvicorn.run


def test_one_worker_serves_app_object(uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    assert main(["api", "--no-migrate"]) == 0
    [(app, options)] = uvicorn_calls
    assert not isinstance(app, str)
    assert options["port"] == 18000
    assert options["http"] == "httptools"
    assert options["loop"] == "uvloop"


def test_startup_objects_frozen(uvicorn_calls: list[tuple[Any, dict[str, Any]]]) -> None:
    gc.unfreeze()
    try:
        assert main(["api", "--no-migrate"]) == 0
        # The application built before uvicorn.run is among the frozen objects the collector skips.
        [(app, _)] = uvicorn_calls
        assert gc.get_freeze_count() > 0
        assert all(tracked is not app for tracked in gc.get_objects())
    finally:
        gc.unfreeze()


def test_worker_sockets_share_port() -> None:
    port = closed_loopback_port()
    sockets = listening_sockets("127.0.0.1", port, 2)
    try:
        assert [listener.getsockname() for listener in sockets] == [("127.0.0.1", port)] * 2
        assert all(listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for listener in sockets)
    finally:
        for listener in sockets:
            listener.close()


def test_second_service_on_port_rejected() -> None:
    port = closed_loopback_port()
    first = listening_sockets("127.0.0.1", port, 2)
    try:
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_sockets("127.0.0.1", port, 2)
    finally:
        for listener in first:
            listener.close()


def test_busy_port_is_command_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_sockets("127.0.0.1", port, 2)


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


@contextmanager
def _running_api(workers: int) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Start `farmstream api` with several workers on a free loopback port; stop it at the end."""
    port = closed_loopback_port()
    environment = dict(
        os.environ,
        FARMSTREAM_API_HOST="127.0.0.1",
        FARMSTREAM_API_PORT=str(port),
        # Liveness needs no database or broker; nothing listens on these ports.
        FARMSTREAM_DATABASE_URL=f"postgresql://nobody:nothing@127.0.0.1:{closed_loopback_port()}/none",
        FARMSTREAM_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_loopback_port()}",
    )
    command = [sys.executable, "-m", "farmstream.cli", "--log-level", "WARNING", "api", "--no-migrate"]
    process = subprocess.Popen([*command, "--workers", str(workers)], env=environment)
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < workers or not _live(port):
            assert process.poll() is None, "farmstream api exited during start-up"
            assert time.monotonic() < deadline, "farmstream api did not answer /healthz within 60 s"
            time.sleep(0.2)
        yield process, port
    finally:
        workers = _children(process.pid) if process.poll() is None else []
        if process.poll() is None:
            process.kill()
            process.wait()
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)


def _listening_inodes(port: int) -> set[str]:
    """Return the socket inodes listening on a loopback TCP port, from /proc/net/tcp."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            inodes.add(inode)
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    links = (os.readlink(entry) for entry in Path(f"/proc/{pid}/fd").iterdir())
    return {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}


def _live(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.integration
def test_workers_stop_on_sigterm() -> None:
    with _running_api(2) as (process, _):
        workers = _children(process.pid)
        assert len(workers) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{worker}").exists() for worker in workers)


@pytest.mark.integration
def test_each_worker_holds_own_socket() -> None:
    with _running_api(2) as (process, port):
        listening = _listening_inodes(port)
        assert len(listening) == 2
        owned = [_socket_inodes(worker) & listening for worker in _children(process.pid)]
        assert [len(inodes) for inodes in owned] == [1, 1]
        assert owned[0] != owned[1]
        assert not _socket_inodes(process.pid) & listening


@pytest.mark.integration
def test_workers_stop_with_killed_supervisor() -> None:
    with _running_api(2) as (process, _):
        workers = _children(process.pid)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{worker}").exists() for worker in workers):
            assert time.monotonic() < deadline, "API workers outlived their supervisor by 30 s"
            time.sleep(0.2)


@pytest.mark.integration
def test_dead_worker_stops_service() -> None:
    with _running_api(2) as (process, _):
        first, second = _children(process.pid)
        os.kill(first, signal.SIGKILL)
        assert process.wait(timeout=30) == 1
        assert not Path(f"/proc/{second}").exists()


def test_zero_workers_rejected(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api", "--no-migrate", "--workers", "0"]) == 1
    assert "invalid --workers 0" in capsys.readouterr().err
    assert uvicorn_calls == []
