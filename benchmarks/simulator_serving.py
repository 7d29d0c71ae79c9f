"""Measure what the portal simulator costs per scrape at scale (300 farms of 8 houses by default).

Prints the start-up time, the cost of one 5-minute step for every house, and the cost of serving
GetSiteControllersInfo and command 0 (first render and cached). Each is printed next to a raw baseline
measured in the same run, which is ``json.dumps`` of the same payloads already built as dicts.

    .venv/bin/python benchmarks/simulator_serving.py [--farms 300] [--houses 8]
"""

from __future__ import annotations

import argparse
import json
import time

from simulator.config import FarmConfig, SimulatorConfig
from simulator.portal import Portal
from simulator.render import command_zero, site_controllers_info


def build_config(farms: int, houses: int) -> SimulatorConfig:
    """Return ``farms`` accounts of ``houses`` houses each, spread over ten host paths."""
    accounts = tuple(
        FarmConfig(
            f"bench-{index}", f"user{index}@example.com", "pw", host_number=1 + index % 10, houses=houses
        )
        for index in range(farms)
    )
    return SimulatorConfig(farms=accounts, seed=1, advance_on_scrape=False, warmup=False)


def main() -> None:
    """Run the measurements and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--farms", type=int, default=300, help="Number of accounts.")
    parser.add_argument("--houses", type=int, default=8, help="Houses per account (1..8).")
    arguments = parser.parse_args()
    config = build_config(arguments.farms, arguments.houses)
    total_houses = arguments.farms * arguments.houses

    began = time.perf_counter()
    portal = Portal(config)
    print(f"start-up: {time.perf_counter() - began:.2f} s for {total_houses} houses")

    began = time.perf_counter()
    for farm in portal.farms.values():
        farm.advance_to(0)
    step_seconds = time.perf_counter() - began
    print(
        f"one step of every house: {step_seconds:.2f} s "
        f"({step_seconds / total_houses * 1e6:.0f} µs per house)"
    )

    farm_ids = list(portal.farms)
    began = time.perf_counter()
    for farm_id in farm_ids:
        portal.site_controllers_info_json(farm_id)
        for house in range(1, arguments.houses + 1):
            portal.command_json(farm_id, house, 0)
    render_seconds = time.perf_counter() - began

    began = time.perf_counter()
    for farm_id in farm_ids:
        portal.site_controllers_info_json(farm_id)
        for house in range(1, arguments.houses + 1):
            portal.command_json(farm_id, house, 0)
    cached_seconds = time.perf_counter() - began

    prebuilt = []
    for farm_id in farm_ids:
        model = portal.farms[farm_id]
        units = portal.units[farm_id]
        prebuilt.append(site_controllers_info(model.houses, model.instant(model.step), units))
        prebuilt.extend(command_zero(house, units) for house in model.houses)
    began = time.perf_counter()
    for payload in prebuilt:
        json.dumps(payload, separators=(",", ":"))
    baseline_seconds = time.perf_counter() - began

    per_house = 1e3 / total_houses
    print(
        f"render + serialize a cycle (1 site info per farm, command 0 per house): {render_seconds:.2f} s, "
        f"{render_seconds * per_house:.3f} ms per house, "
        f"{render_seconds / baseline_seconds:.1f}x the raw baseline"
    )
    print(
        f"cached cycle: {cached_seconds:.3f} s, {cached_seconds * per_house:.4f} ms per house, "
        f"{cached_seconds / baseline_seconds:.2f}x the raw baseline"
    )
    print(f"raw baseline (json.dumps of prebuilt payloads): {baseline_seconds:.2f} s")


if __name__ == "__main__":
    main()
