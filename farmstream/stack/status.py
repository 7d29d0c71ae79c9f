"""The state of one stack component, as ``farmstream stack status`` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ComponentStatus:
    """Whether a component runs, with its process id, loopback port and log file."""

    name: str
    running: bool
    pid: int | None
    port: int
    log_path: Path
    detail: str = ""

    def describe(self) -> str:
        """Return one status line, for example ``kafka up pid=123 port=19092 log=...``."""
        state = "up" if self.running else "down"
        pid = str(self.pid) if self.pid is not None else "-"
        line = f"{self.name:<8} {state:<4} pid={pid} port={self.port} log={self.log_path}"
        return f"{line} {self.detail}" if self.detail else line
