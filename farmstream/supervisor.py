"""Start farmstream services as child processes, watch them and stop them by their process ids.

The demo and the reliability suite run each stage as its own ``farmstream <subcommand>`` process,
exactly as production does, so a stage can be killed with SIGKILL and restarted on its own.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)


@dataclass
class ServiceSpec:
    """A service to run: its name, its farmstream arguments and extra environment variables."""

    name: str
    arguments: list[str]
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class RunningService:
    """A started service with its process and log file."""

    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    started_at: float
    restarts: int = 0


class Supervisor:
    """Own a set of child services: start, kill, restart and stop them, logging each to its own file."""

    def __init__(self, log_dir: Path, base_environment: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.base_environment = dict(os.environ if base_environment is None else base_environment)
        self.services: dict[str, RunningService] = {}

    def start(self, spec: ServiceSpec) -> RunningService:
        """Start one service as ``python -m farmstream.cli <arguments>`` in its own process group."""
        if spec.name in self.services and self.services[spec.name].process.poll() is None:
            raise RuntimeError(
                f"service {spec.name} is already running with pid {self.services[spec.name].process.pid}"
            )
        environment = {**self.base_environment, **spec.environment}
        log_path = self.log_dir / f"{spec.name}.log"
        log_file = open(log_path, "ab")
        command = [sys.executable, "-m", "farmstream.cli", *spec.arguments]
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,
        )
        previous = self.services.get(spec.name)
        service = RunningService(
            spec=spec,
            process=process,
            log_path=log_path,
            log_file=log_file,
            started_at=time.monotonic(),
            restarts=0 if previous is None else previous.restarts + 1,
        )
        self.services[spec.name] = service
        logger.info("service started", extra={"service": spec.name, "pid": process.pid, "log": str(log_path)})
        return service

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send a signal to one service's process group and wait for it to exit."""
        service = self.services[name]
        if service.process.poll() is None:
            os.killpg(service.process.pid, sig)
            service.process.wait(timeout=30)
        service.log_file.close()
        logger.info(
            "service signalled", extra={"service": name, "signal": int(sig), "pid": service.process.pid}
        )

    def restart(self, name: str) -> RunningService:
        """Start a service again with the same specification."""
        return self.start(self.services[name].spec)

    def exited(self) -> list[RunningService]:
        """Return the services whose process has exited."""
        return [service for service in self.services.values() if service.process.poll() is not None]

    def stop(self, timeout_seconds: float = 15.0) -> None:
        """Stop every service, last started first: SIGTERM, then SIGKILL after the timeout."""
        for service in reversed(list(self.services.values())):
            process = service.process
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout_seconds
        for service in reversed(list(self.services.values())):
            process = service.process
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "service did not stop in time, killing it",
                    extra={"service": service.spec.name, "pid": process.pid},
                )
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
            if not service.log_file.closed:
                service.log_file.close()
        logger.info("all services stopped", extra={"count": len(self.services)})
