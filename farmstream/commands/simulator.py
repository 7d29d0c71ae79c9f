"""`farmstream simulator`: serve the simulated RotemNet portal on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "simulator",
        help="Serve the simulated RotemNet Web portal on 127.0.0.1 (demo and tests).",
        description="Serve the simulated RotemNet Web portal on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8800, help="TCP port on 127.0.0.1; 0 picks a free one.")
    parser.add_argument("--config", type=Path, help="JSON configuration (farms, faults, replay, clock).")
    parser.add_argument("--seed", type=int, help="Seed of the house models and fault draws.")
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument(
        "--step-seconds", type=float, help="Accelerated clock: real seconds per 5-minute step."
    )
    clock.add_argument(
        "--on-demand", action="store_true", help="Clock moves one step per scrape cycle (the default)."
    )
    parser.add_argument(
        "--replay", type=Path, help="CSV with timestamp,value replayed as a temperature probe."
    )
    parser.add_argument("--replay-farm", help="Farm id of the replayed probe (default: the first farm).")
    parser.add_argument("--replay-house", type=int, default=1, help="House number of the replayed probe.")
    parser.add_argument("--replay-sensor", default="Temperature_Sensor_1", help="Probe that replays the CSV.")
    parser.add_argument(
        "--replay-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=(15.0, 45.0),
        help="°C range the file's min..max maps onto.",
    )
    parser.add_argument(
        "--fault-suite",
        type=int,
        metavar="SEED",
        help="Add a random suite of faults of every kind, drawn from SEED, with fault-free control houses.",
    )
    parser.add_argument(
        "--suite-days",
        type=float,
        default=7.0,
        help="Simulated days the fault suite spreads over (default 7).",
    )
    parser.add_argument("--farms-file", type=Path, help="Write the scraper's farms file here.")
    parser.add_argument("--truth-file", type=Path, help="Write the ground truth here (again on exit).")
    parser.add_argument("--session-lifetime", type=float, help="Real seconds until a login session expires.")
    parser.set_defaults(func=_run)


def build_config(arguments: argparse.Namespace) -> Any:
    """Build the simulator configuration from the file and the command-line overrides."""
    from farmstream.cli import CommandError
    from simulator.config import ReplaySpec, default_config, load_config
    from simulator.exceptions import ConfigError
    from simulator.faults import make_fault_suite

    try:
        config = load_config(arguments.config) if arguments.config else default_config()
        if arguments.seed is not None:
            config = replace(config, seed=arguments.seed)
        if arguments.step_seconds is not None:
            config = replace(config, step_seconds=arguments.step_seconds)
        elif arguments.on_demand:
            config = replace(config, step_seconds=None)
        if arguments.session_lifetime is not None:
            config = replace(config, session_lifetime_seconds=arguments.session_lifetime)
        if arguments.replay is not None:
            low, high = arguments.replay_range
            farm_id = arguments.replay_farm or config.farms[0].farm_id
            spec = ReplaySpec(
                arguments.replay, farm_id, arguments.replay_house, arguments.replay_sensor, low, high
            )
            config = replace(config, replay=spec)
        if arguments.fault_suite is not None:
            if arguments.suite_days <= 0:
                raise CommandError(
                    f"invalid --suite-days {arguments.suite_days}: use a positive number of days"
                )
            suite, _controls = make_fault_suite(
                arguments.fault_suite, config.farms, config.start, timedelta(days=arguments.suite_days)
            )
            config = replace(config, faults=config.faults + suite)
    except (ConfigError, ValueError) as error:
        raise CommandError(f"invalid simulator configuration: {error}") from error
    return config


def _run(arguments: argparse.Namespace) -> int:
    from farmstream.cli import CommandError
    from simulator.exceptions import ConfigError
    from simulator.server import RunningSimulator

    config = build_config(arguments)
    if not 0 <= arguments.port <= 65535:
        raise CommandError(f"invalid --port {arguments.port}: use 0..65535")
    try:
        simulator = RunningSimulator(config, arguments.port)
    except ConfigError as error:
        raise CommandError(f"invalid simulator configuration: {error}") from error
    except OSError as error:
        raise CommandError(
            f"cannot listen on 127.0.0.1:{arguments.port}: {error}; pick another --port"
        ) from error
    try:
        if arguments.farms_file:
            simulator.farms_file(arguments.farms_file)
            logger.info("farms file written", extra={"path": str(arguments.farms_file)})
        if arguments.truth_file:
            simulator.write_ground_truth(arguments.truth_file)
        logger.info(
            "simulator serving",
            extra={
                "url": simulator.base_url,
                "login": simulator.login_url,
                "seed": config.seed,
                "clock": "accelerated" if config.step_seconds else "on_demand",
            },
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        logger.info("simulator interrupted")
    finally:
        if arguments.truth_file:
            simulator.write_ground_truth(arguments.truth_file)
        simulator.stop()
    return 0
