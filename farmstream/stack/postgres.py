"""A throwaway PostgreSQL cluster from Debian's packages, listening only on 127.0.0.1.

The cluster lives in ``<stack_dir>/postgres`` and is owned by the ``postgres`` OS user when this
command runs as root, because initdb rejects root. The role ``farmstream`` (password ``farmstream``,
CREATEDB, so tests can create their own databases) and the database ``farmstream`` are created
idempotently on every start.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from farmstream.config import StackSettings
from farmstream.stack import processes
from farmstream.stack.exceptions import StackError
from farmstream.stack.status import ComponentStatus

logger = logging.getLogger(__name__)

PREFERRED_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
CLUSTER_OWNER_WHEN_ROOT = "postgres"
SUPERUSER = "postgres"
APPLICATION_ROLE = "farmstream"
APPLICATION_PASSWORD = "farmstream"  # noqa: S105 - fixed password of a loopback-only development cluster
APPLICATION_DATABASE = "farmstream"
START_TIMEOUT_S = 60
# Linux limits a unix socket path to 107 bytes.
MAX_SOCKET_PATH = 107
# Settings for a disposable cluster: durability is traded for speed because the data is test data.
SERVER_SETTINGS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
)


def find_bin_dir() -> Path | None:
    """Return the folder of initdb and pg_ctl, preferring PostgreSQL 15, or None when not installed."""
    if (PREFERRED_BIN_DIR / "initdb").exists():
        return PREFERRED_BIN_DIR
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return installed[-1].parent if installed else None


def ensure_installed() -> Path:
    """Return the server binaries folder, installing Debian's postgresql package when it is missing."""
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        return bin_dir
    processes.install_debian_packages(["postgresql"], "PostgreSQL server binaries not found")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise StackError("apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb exists")
    return bin_dir


def cluster_owner() -> str | None:
    """Return the OS user that must own the cluster, or None to run as the current user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(CLUSTER_OWNER_WHEN_ROOT)
    except KeyError as error:
        raise StackError(
            "running as root but the `postgres` OS user does not exist: "
            "run `apt-get install -y postgresql`, which creates it"
        ) from error
    return CLUSTER_OWNER_WHEN_ROOT


@dataclass(frozen=True)
class PostgresPaths:
    """Folders and files of the cluster for one stack folder."""

    base: Path
    data: Path
    sockets: Path
    log: Path
    pid_file: Path

    @classmethod
    def under(cls, base: Path, log: Path, stack_dir: Path) -> PostgresPaths:
        return cls(
            base=base,
            data=base / "data",
            sockets=base / "run",
            log=log,
            pid_file=stack_dir / "run" / "postgres.pid",
        )

    @property
    def markers(self) -> tuple[str, str]:
        """Strings on the postmaster's command line that identify this stack's cluster."""
        return ("postgres", str(self.data))


def fallback_base(stack_dir: Path) -> Path:
    """Return the cluster folder used when the cluster owner cannot reach the stack folder."""
    digest = hashlib.sha256(str(stack_dir.resolve()).encode()).hexdigest()[:12]
    # A fixed, per-stack name under /var/tmp: the folder is created by this command and handed to the
    # cluster owner, and initdb rejects a data folder that it does not own.
    return Path("/var/tmp") / f"farmstream-{digest}" / "postgres"  # noqa: S108


def resolve_paths(settings: StackSettings, create: bool) -> PostgresPaths:
    """Return where the cluster lives: in the stack folder, or under /var/tmp when it cannot be there.

    With ``create`` the folders are made, handed to the cluster owner and tested by running
    ``test -w`` as that owner. Without it, an existing cluster decides the location.
    """
    stack_dir = settings.stack_dir
    primary = PostgresPaths.under(stack_dir / "postgres", stack_dir / "logs" / "postgres.log", stack_dir)
    fallback_dir = fallback_base(stack_dir)
    fallback = PostgresPaths.under(fallback_dir, fallback_dir / "postgres.log", stack_dir)
    if (primary.data / "PG_VERSION").exists():
        return primary
    if (fallback.data / "PG_VERSION").exists():
        return fallback
    if not create:
        return primary
    owner = cluster_owner()
    socket_path = primary.sockets / f".s.PGSQL.{settings.postgres_port}"
    if len(str(socket_path)) <= MAX_SOCKET_PATH and _owner_can_write(primary, owner):
        return primary
    processes.announce(
        f"the {owner or 'current'} user cannot use {primary.base} (folder permissions or socket path "
        f"length), so the PostgreSQL cluster goes to {fallback.base} and logs to {fallback.log}"
    )
    if not _owner_can_write(fallback, owner):
        raise StackError(f"the {owner} user cannot write {fallback.base}: check the permissions of /var/tmp")
    return fallback


def _owner_can_write(paths: PostgresPaths, owner: str | None) -> bool:
    paths.base.mkdir(parents=True, exist_ok=True)
    paths.sockets.mkdir(parents=True, exist_ok=True)
    paths.log.parent.mkdir(parents=True, exist_ok=True)
    paths.log.touch()
    if owner is not None:
        for path in (paths.base, paths.sockets, paths.log):
            os.chown(path, pwd.getpwnam(owner).pw_uid, pwd.getpwnam(owner).pw_gid)
    paths.sockets.chmod(0o700)
    probe = _run_as_owner(["test", "-w", str(paths.base), "-a", "-w", str(paths.log)], owner, Path("/"))
    return probe.returncode == 0


def _run_as_owner(command: list[str], owner: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    options: dict[str, Any] = {}
    environment = dict(os.environ)
    if owner is not None:
        account = pwd.getpwnam(owner)
        options = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        environment.update(HOME=account.pw_dir, USER=owner, LOGNAME=owner)
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
        **options,
    )


def _initdb(bin_dir: Path, paths: PostgresPaths, owner: str | None) -> None:
    if (paths.data / "PG_VERSION").exists():
        return
    processes.announce(f"creating a PostgreSQL cluster in {paths.data}")
    result = _run_as_owner(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(paths.data),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--no-locale",
            # The socket folder is private to the cluster owner, so local trust admits only that user
            # (and root); TCP connections on 127.0.0.1 need a password.
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-instructions",
        ],
        owner,
        paths.base,
    )
    if result.returncode != 0:
        raise StackError(f"initdb failed on {paths.data}: {(result.stdout + result.stderr).strip()[-800:]}")


def _postmaster_pid(paths: PostgresPaths) -> int | None:
    try:
        first_line = (paths.data / "postmaster.pid").read_text().splitlines()[0]
    except (FileNotFoundError, IndexError, PermissionError):
        return None
    pid = int(first_line) if first_line.strip().isdigit() else None
    return pid if pid is not None and processes.is_our_process(pid, paths.markers) else None


def _live_pid(paths: PostgresPaths) -> int | None:
    pid = processes.live_pid(paths.pid_file, paths.markers)
    if pid is None:
        # A cluster whose pid file was lost is still ours: postgres records its own pid in the data folder.
        pid = _postmaster_pid(paths)
        if pid is not None:
            processes.write_pid(paths.pid_file, pid)
    return pid


def _is_ready(bin_dir: Path | None, port: int, timeout: int = 3) -> bool:
    if bin_dir is None:
        return False
    result = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", processes.LOOPBACK, "-p", str(port), "-t", str(timeout)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _bootstrap_role_and_database(settings: StackSettings, paths: PostgresPaths) -> None:
    """Create the farmstream role and database when missing, and grant the role pg_signal_backend."""
    with psycopg.connect(
        host=str(paths.sockets),
        port=settings.postgres_port,
        user=SUPERUSER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    ) as connection:
        role_exists = connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (APPLICATION_ROLE,)
        ).fetchone()
        if role_exists is None:
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                    sql.Identifier(APPLICATION_ROLE), sql.Literal(APPLICATION_PASSWORD)
                )
            )
        # Tests and benchmarks drop their databases WITH (FORCE), which must also end an autovacuum
        # worker busy in that database: without this role the drop fails with InsufficientPrivilege.
        connection.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(APPLICATION_ROLE)))
        database_exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (APPLICATION_DATABASE,)
        ).fetchone()
        if database_exists is None:
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(APPLICATION_DATABASE), sql.Identifier(APPLICATION_ROLE)
                )
            )


def status(settings: StackSettings) -> ComponentStatus:
    """Return whether the recorded cluster runs and accepts connections on its port."""
    paths = resolve_paths(settings, create=False)
    pid = _live_pid(paths)
    ready = pid is not None and _is_ready(find_bin_dir(), settings.postgres_port)
    detail = f"data={paths.data}"
    if pid is not None and not ready:
        detail += " (process runs but pg_isready fails)"
    return ComponentStatus("postgres", ready, pid, settings.postgres_port, paths.log, detail)


def start(settings: StackSettings) -> ComponentStatus:
    """Start the cluster unless it already runs, then make sure the farmstream role and database exist."""
    bin_dir = ensure_installed()
    owner = cluster_owner()
    paths = resolve_paths(settings, create=True)
    pid = _live_pid(paths)
    if pid is not None:
        if not _is_ready(bin_dir, settings.postgres_port, timeout=START_TIMEOUT_S):
            raise StackError(
                f"PostgreSQL (pid {pid}) runs but does not accept connections on port "
                f"{settings.postgres_port}; see {paths.log}"
            )
        _bootstrap_role_and_database(settings, paths)
        return ComponentStatus("postgres", True, pid, settings.postgres_port, paths.log, "(already running)")

    processes.require_free_port(settings.postgres_port, "FARMSTREAM_POSTGRES_PORT")
    _initdb(bin_dir, paths, owner)
    server_options = [
        f"-c port={settings.postgres_port}",
        f"-c unix_socket_directories={shlex.quote(str(paths.sockets))}",
        *(f"-c {setting}" for setting in SERVER_SETTINGS),
    ]
    processes.announce(f"starting PostgreSQL on {processes.LOOPBACK}:{settings.postgres_port}")
    started = _run_as_owner(
        [
            str(bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(paths.data),
            "-l",
            str(paths.log),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "-s",
            "-o",
            " ".join(server_options),
        ],
        owner,
        paths.base,
    )
    pid = _postmaster_pid(paths)
    if started.returncode != 0 or pid is None:
        raise StackError(
            f"pg_ctl start failed (exit status {started.returncode}); see {paths.log}. Last lines:\n"
            + processes.log_tail(paths.log)
        )
    processes.write_pid(paths.pid_file, pid)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _is_ready(bin_dir, settings.postgres_port):
        if time.monotonic() > deadline:
            raise StackError(
                f"PostgreSQL did not accept connections within {START_TIMEOUT_S} s; see {paths.log}"
            )
        time.sleep(0.5)
    _bootstrap_role_and_database(settings, paths)
    logger.info("postgres ready", extra={"pid": pid, "port": settings.postgres_port})
    return ComponentStatus("postgres", True, pid, settings.postgres_port, paths.log, "(started)")


def stop(settings: StackSettings) -> ComponentStatus:
    """Stop the cluster with ``pg_ctl stop -m fast``, then by signals if the postmaster remains."""
    paths = resolve_paths(settings, create=False)
    pid = _live_pid(paths)
    if pid is None:
        return ComponentStatus(
            "postgres", False, None, settings.postgres_port, paths.log, "(was not running)"
        )
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        stopped = _run_as_owner(
            [str(bin_dir / "pg_ctl"), "stop", "-D", str(paths.data), "-m", "fast", "-w", "-t", "60", "-s"],
            cluster_owner(),
            paths.base,
        )
        if stopped.returncode != 0:
            logger.warning(
                "pg_ctl stop failed, signalling the postmaster",
                extra={"pid": pid, "output": stopped.stderr.strip()[-300:]},
            )
    processes.terminate(pid, "postgres", 30.0)
    paths.pid_file.unlink(missing_ok=True)
    return ComponentStatus("postgres", False, pid, settings.postgres_port, paths.log, "(stopped)")
