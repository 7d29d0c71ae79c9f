"""Process ids, ports, locks and system packages shared by the stack components."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from farmstream.stack.exceptions import StackError

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def process_command_line(pid: int) -> list[str] | None:
    """Return the argument vector of a live process, or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The state letter follows the parenthesised command name; Z is a zombie that no longer runs.
    if stat[stat.rfind(")") + 2 :].startswith("Z"):
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_our_process(pid: int, markers: Sequence[str]) -> bool:
    """Return whether the process is alive and its command line contains every marker.

    The markers (a class name, a data folder) keep a recycled process id from being taken for the
    stack's process, so ``down`` never signals an unrelated program.
    """
    arguments = process_command_line(pid)
    if arguments is None:
        return False
    line = " ".join(arguments)
    return all(marker in line for marker in markers)


def read_pid(path: Path) -> int | None:
    """Return the process id stored in a pid file, or None when the file is missing or unreadable."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def write_pid(path: Path, pid: int) -> None:
    """Store a process id in a pid file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n")


def live_pid(path: Path, markers: Sequence[str]) -> int | None:
    """Return the recorded process id if that process still runs, removing a stale pid file."""
    pid = read_pid(path)
    if pid is None:
        return None
    if is_our_process(pid, markers):
        return pid
    logger.info("removing stale pid file", extra={"pid_file": str(path), "pid": pid})
    path.unlink(missing_ok=True)
    return None


def port_is_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """Return whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_free_port(port: int, variable: str) -> None:
    """Raise StackError when another program already listens on the loopback port."""
    if port_is_open(port):
        raise StackError(
            f"port {port} on {LOOPBACK} is already in use by a process this stack did not start: "
            f"stop that process or set {variable} to a free port"
        )


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until the process is gone and return whether it exited within the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_command_line(pid) is None:
            return True
        time.sleep(0.2)
    return process_command_line(pid) is None


def terminate(pid: int, name: str, timeout: float) -> None:
    """Send SIGTERM to the process, then SIGKILL if it still runs after the timeout."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if wait_for_exit(pid, timeout):
        return
    logger.warning(
        "process ignored SIGTERM, sending SIGKILL",
        extra={"component": name, "pid": pid, "timeout_s": timeout},
    )
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if not wait_for_exit(pid, 10.0):
        raise StackError(f"{name} process {pid} is still running after SIGKILL: check it with `ps -p {pid}`")


def log_tail(path: Path, lines: int = 15) -> str:
    """Return the last lines of a log file, for error messages."""
    try:
        content = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(log file is missing)"
    return "\n".join(content[-lines:])


@contextlib.contextmanager
def stack_lock(stack_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the stack folder so two commands never start or stop it at once."""
    stack_dir.mkdir(parents=True, exist_ok=True)
    with (stack_dir / "stack.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def announce(message: str) -> None:
    """Tell the operator on stderr what a slow step is doing."""
    print(f"farmstream stack: {message}", file=sys.stderr, flush=True)


def install_debian_packages(packages: Sequence[str], reason: str) -> None:
    """Install Debian packages with apt-get, as root or through sudo, saying so on stderr."""
    if shutil.which("apt-get") is None:
        raise StackError(f"{reason}, and apt-get is not available: install {' '.join(packages)} by hand")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise StackError(f"{reason}: run `apt-get install -y {' '.join(packages)}` as root")
        prefix = ["sudo", "-n"]

    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    announce(f"{reason}: running apt-get update and apt-get install -y {' '.join(packages)}")
    # Exit status 101 of policy-rc.d keeps the packages' own services (Debian's default PostgreSQL
    # cluster, for example) from starting: the stack runs its own processes on its own ports.
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = os.geteuid() == 0 and not policy.exists()
    if added_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)

    try:
        for command in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        ):
            result = subprocess.run(
                [*prefix, *command], env=environment, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise StackError(
                    f"`{' '.join(command)}` failed with exit status {result.returncode}: "
                    f"{result.stderr.strip()[-500:]}"
                )
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
