"""Integration test of a second, private stack: up, status, down, with its own ports and folder.

It never touches the shared stack on the default ports. The broker jars come from the usual cache,
so the test does not run Maven.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from farmstream.config import StackSettings
from farmstream.stack.postgres import fallback_base
from farmstream.stack.processes import process_command_line

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FARMSTREAM = Path(sys.executable).with_name("farmstream")


def _free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        sockets.append(probe)
    ports = [probe.getsockname()[1] for probe in sockets]
    for probe in sockets:
        probe.close()
    return ports


@pytest.fixture
def private_stack(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Return the environment of a stack in tmp_path on free ports, stopped and removed afterwards."""
    kafka_port, controller_port, postgres_port = _free_ports(3)
    environment = {
        **os.environ,
        "FARMSTREAM_STACK_DIR": str(tmp_path / "stack"),
        "FARMSTREAM_KAFKA_PORT": str(kafka_port),
        "FARMSTREAM_KAFKA_CONTROLLER_PORT": str(controller_port),
        "FARMSTREAM_POSTGRES_PORT": str(postgres_port),
        "FARMSTREAM_KAFKA_HEAP_MB": "256",
    }
    environment.pop("FARMSTREAM_KAFKA_BOOTSTRAP", None)
    environment.pop("FARMSTREAM_DATABASE_URL", None)
    yield environment
    subprocess.run(
        [str(FARMSTREAM), "stack", "down"], env=environment, capture_output=True, timeout=180, check=False
    )
    shutil.rmtree(fallback_base(tmp_path / "stack").parent, ignore_errors=True)


def _farmstream(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FARMSTREAM), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _pids(output: str) -> dict[str, int]:
    fields = [line.split() for line in output.splitlines()]
    return {
        parts[0]: int(parts[2].removeprefix("pid="))
        for parts in fields
        if parts and parts[0] in {"postgres", "kafka"} and parts[2] != "pid=-"
    }


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            arguments = process_command_line(int(entry.name))
            if arguments is not None and text in " ".join(arguments):
                found.append(int(entry.name))
    return found


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def test_private_stack_up_down(private_stack: dict[str, str], tmp_path: Path) -> None:
    stack_dir = tmp_path / "stack"
    # A pid file naming a live process that is not the broker must be treated as stale.
    (stack_dir / "run").mkdir(parents=True)
    (stack_dir / "run" / "kafka.pid").write_text(f"{os.getpid()}\n")
    before = _farmstream(private_stack, "stack", "status")
    assert before.returncode == 1
    assert not (stack_dir / "run" / "kafka.pid").exists()

    up = _farmstream(private_stack, "stack", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    status = _farmstream(private_stack, "stack", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    pids = _pids(status.stdout)
    assert set(pids) == {"postgres", "kafka"}
    assert str(StackSettings(stack_dir=stack_dir).stack_dir / "logs" / "kafka.log") in status.stdout

    backends = _children(pids["postgres"])
    assert backends, "the postmaster has no child processes"

    down = _farmstream(private_stack, "stack", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert all(process_command_line(pid) is None for pid in pids.values())
    assert all(process_command_line(pid) is None for pid in backends)
    assert _processes_mentioning(str(stack_dir)) == []
    assert _processes_mentioning(str(fallback_base(stack_dir))) == []
    after = _farmstream(private_stack, "stack", "status")
    assert after.returncode == 1
    assert [line.split()[:2] for line in after.stdout.splitlines()] == [
        ["postgres", "down"],
        ["kafka", "down"],
    ]
