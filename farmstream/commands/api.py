"""`farmstream api`: serve the REST API with uvicorn, after applying pending migrations."""

from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import signal
import socket
import sys
from typing import Any

import psycopg
import uvicorn

from api.app import create_app
from api.config import ApiSettings
from farmstream.cli import CommandError
from farmstream.logging_setup import configure_logging
from migrations import MigrationError, apply_migrations

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "api",
        help="Serve the REST API, /metrics and the health checks.",
        description="Serve the REST API with uvicorn. Settings come from FARMSTREAM_DATABASE_URL, "
        "FARMSTREAM_KAFKA_BOOTSTRAP, FARMSTREAM_API_HOST, FARMSTREAM_API_PORT, FARMSTREAM_API_POOL_SIZE "
        "and the other FARMSTREAM_API_* variables.",
    )
    parser.add_argument("--host", help="Listen address (default FARMSTREAM_API_HOST, else 127.0.0.1).")
    parser.add_argument("--port", type=int, help="Listen port (default FARMSTREAM_API_PORT, else 8000).")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Worker processes, each with its own listening socket (SO_REUSEPORT) and a database pool "
        "of FARMSTREAM_API_POOL_SIZE connections (default 1).",
    )
    parser.add_argument(
        "--no-migrate", action="store_true", help="Do not apply pending database migrations at start."
    )
    parser.set_defaults(func=_run)


def _run(arguments: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if arguments.host is not None:
        overrides["api_host"] = arguments.host
    if arguments.port is not None:
        overrides["api_port"] = arguments.port
    if arguments.workers < 1:
        raise CommandError(f"invalid --workers {arguments.workers}: give 1 or more worker processes")
    settings = ApiSettings(**overrides)
    if settings.api_migrate_on_start and not arguments.no_migrate:
        _migrate(settings)
    logger.info(
        "starting the API",
        extra={"host": settings.api_host, "port": settings.api_port, "workers": arguments.workers},
    )
    if arguments.workers == 1:
        app = create_app(settings)
        freeze_startup_objects()
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, **UVICORN_OPTIONS)
        return 0
    return _supervise(settings, arguments.workers)


# The C HTTP parser and event loop cost less CPU per request than h11 and asyncio's own loop.
UVICORN_OPTIONS: dict[str, Any] = {
    "http": "httptools",
    "loop": "uvloop",
    "log_config": None,
    "access_log": False,
}


def freeze_startup_objects() -> None:
    """Move every object alive after start-up out of the garbage collector's reach.

    A full collection traversed the application's 78,000 start-up objects and stalled every request
    of the process for 50 to 120 ms. Frozen objects are still freed by reference counting.
    """
    gc.collect()
    gc.freeze()


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """Return ``count`` sockets listening on one address, each with SO_REUSEPORT.

    The kernel spreads new connections over the sockets by a hash of the client address. With one
    shared socket, the worker that woke first accepted nearly every keep-alive connection. A port
    already in use is rejected, also when another `farmstream api` listens on it with SO_REUSEPORT.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        # A socket without SO_REUSEPORT cannot bind a port that any listening socket holds, so this
        # probe fails where the shared sockets below would join another service's group.
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
        for _ in range(count):
            listener = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind((host, port))
            listener.listen(2048)
    except OSError as error:
        for listener in sockets:
            listener.close()
        raise CommandError(
            f"cannot listen on {host}:{port} ({error}); stop what uses the port or set --port"
        ) from error
    return sockets


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _serve_worker(
    settings: ApiSettings, sockets: list[socket.socket], index: int, log_level: str, supervisor: int
) -> None:
    """Run one worker process: its own application, pool and listening socket."""
    # Forked with the supervisor's handlers and with the stop signals blocked: uvicorn installs its
    # own handlers, and until then a stop signal ends the worker.
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    _stop_with_supervisor(supervisor)
    # The other workers' sockets must close with their workers: a socket still open here would
    # keep its share of new connections after its worker exited, and nothing would accept them.
    for other, listener in enumerate(sockets):
        if other != index:
            listener.close()
    configure_logging(log_level)
    app = create_app(settings)
    freeze_startup_objects()
    server = uvicorn.Server(uvicorn.Config(app, **UVICORN_OPTIONS))
    server.run(sockets=[sockets[index]])
    if not server.started:
        sys.exit(1)  # uvicorn returns normally when start-up fails; the supervisor reports the code


def _stop_with_supervisor(supervisor: int) -> None:
    """Have the kernel send SIGTERM to this worker when the supervisor dies, SIGKILL included."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        logger.warning(
            "prctl(PR_SET_PDEATHSIG) failed, so this worker may outlive a killed supervisor",
            extra={"errno": ctypes.get_errno()},
        )
    if os.getppid() != supervisor:  # the supervisor died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _supervise(settings: ApiSettings, workers: int) -> int:
    """Fork the workers, forward SIGINT and SIGTERM to them, and wait until all have stopped.

    A worker that stops on its own stops the others too, so that a service manager such as
    systemd or Docker detects the failure and restarts the service. Workers also stop when the
    supervisor is killed.
    """
    sockets = listening_sockets(settings.api_host, settings.api_port, workers)
    log_level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    context = multiprocessing.get_context("fork")
    processes: list[multiprocessing.process.BaseProcess] = []
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    # Handlers first, so a stop signal at any point reaches every worker started. The signals stay
    # blocked while forking, so a worker never runs the supervisor's handler.
    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    failed: multiprocessing.process.BaseProcess | None = None
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for index in range(workers):
                arguments = (settings, sockets, index, log_level, os.getpid())
                worker = context.Process(target=_serve_worker, args=arguments, name=f"api-worker-{index + 1}")
                worker.start()
                processes.append(worker)
        finally:
            # The supervisor's copies would take their share of connections and never accept them.
            for listener in sockets:
                listener.close()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        ended = multiprocessing.connection.wait([process.sentinel for process in processes])
        if not stopping:
            # The sentinel is ready as the worker exits, a moment before its exit code can be read.
            failed = next(process for process in processes if process.sentinel in ended)
            failed.join()
            logger.error("an API worker stopped; stopping the others", extra={"exit_code": failed.exitcode})
    finally:
        # Also on an error here, so that no worker outlives the supervisor. A second SIGTERM would
        # cut short the graceful shutdown of workers already stopping.
        if not stopping:
            stop(signal.SIGTERM, None)
        for process in processes:
            process.join()
        for number, handler in previous.items():
            signal.signal(number, handler)
    # A worker that crashed while the others were being stopped must not pass for a clean stop.
    stopped_by_us = (0, -signal.SIGTERM)
    failed = failed or next((worker for worker in processes if worker.exitcode not in stopped_by_us), None)
    if failed is not None:
        raise CommandError(
            f"an API worker stopped unexpectedly with exit code {failed.exitcode}; see the log above"
        )
    return 0


def _migrate(settings: ApiSettings) -> None:
    try:
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as connection:
            applied = apply_migrations(connection)
    except psycopg.OperationalError as error:
        raise CommandError(
            f"cannot apply migrations, the database is unreachable ({error}). Start PostgreSQL, "
            "check FARMSTREAM_DATABASE_URL, or pass --no-migrate."
        ) from error
    except MigrationError as error:
        raise CommandError(str(error)) from error
    if applied:
        logger.info("applied migrations", extra={"versions": ",".join(str(version) for version in applied)})
