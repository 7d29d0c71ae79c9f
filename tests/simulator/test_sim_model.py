"""The house model behaves like a broiler house: curves, meters, day rollover, gases and flock.

Unit tests that step FarmModel directly, without rendering or HTTP.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import mean

import pytest
from sim_helpers import local_start, one_farm, starting_at

from simulator import curves
from simulator.config import SimulatorConfig
from simulator.model import FarmModel


def _farm(config: SimulatorConfig) -> FarmModel:
    return FarmModel(config, config.farms[0], None)


def test_target_curve_points() -> None:
    assert curves.target_temperature(21) == pytest.approx(27.65)
    assert curves.target_temperature(-1) == pytest.approx(32.5)
    assert curves.target_temperature(42) == pytest.approx(20.0)
    assert curves.target_temperature(10) == pytest.approx(28.93, abs=0.01)


def test_vent_levels_match_reference() -> None:
    assert curves.level_airflow_m3h(16) == pytest.approx(98_542)
    assert curves.level_airflow_m3h(17) == pytest.approx(115_532)
    airflow = [curves.level_airflow_m3h(level) for level in range(1, curves.MAX_VENT_LEVEL + 1)]
    assert airflow == sorted(airflow)


def test_growth_day_increments_at_midnight() -> None:
    config = starting_at(one_farm(), local_start(one_farm(), 23))
    farm = _farm(config)
    farm.advance_to(0)
    house = farm.houses[0]
    assert house.reading is not None and house.reading.growth_day == 21
    water_before = house.reading.water_today_l
    farm.advance_to(12)
    assert house.reading.growth_day == 22
    assert house.reading.water_today_l < water_before
    assert house.history[21].water_l[0] + house.history[21].water_l[1] >= water_before


def test_daily_water_follows_feed() -> None:
    config = starting_at(one_farm(), local_start(one_farm(), 0))
    farm = _farm(replace(config, warmup=False))
    farm.advance_to(288)
    record = farm.houses[0].history[21]
    water, feed = sum(record.water_l), sum(record.feed_kg)
    birds = farm.houses[0].birds
    assert feed == pytest.approx(birds * 0.105, rel=0.1)
    assert 1.6 <= water / feed <= 2.3


def test_drinking_follows_light_program() -> None:
    config = starting_at(one_farm(), local_start(one_farm(), 0))
    farm = _farm(replace(config, warmup=False))
    dark, lit = [], []
    for step in range(288):
        farm.advance_to(step)
        reading = farm.houses[0].reading
        assert reading is not None
        (lit if reading.lights_on else dark).append(farm.houses[0].water_hour[-1])
    assert mean(dark) < 0.1 * mean(lit)


def test_weight_and_mortality_plausible() -> None:
    farm = _farm(one_farm(houses=4))
    farm.advance_to(288)
    for house in farm.houses:
        reading = house.reading
        assert reading is not None
        assert 0.9 < reading.average_weight_kg < 1.3
        lost = 1.0 - reading.birds / reading.birds_placed
        assert 0.005 < lost < 0.04
        assert 0 < house.history[21].deaths < reading.birds_placed * 0.002


def test_co2_peaks_while_brooding() -> None:
    brooding = starting_at(
        one_farm(growth_day=2, co2_sensor=True, weather_mean_c=10.0), local_start(one_farm(), 3)
    )
    grown = starting_at(
        one_farm(growth_day=28, co2_sensor=True, weather_mean_c=10.0), local_start(one_farm(), 3)
    )
    values = []
    for config in (brooding, grown):
        farm = _farm(config)
        farm.advance_to(0)
        reading = farm.houses[0].reading
        assert reading is not None and reading.co2_ppm is not None
        values.append(reading.co2_ppm)
    assert values[0] > 1500.0
    assert values[0] > values[1]


def test_ammonia_highest_early_morning() -> None:
    config = starting_at(one_farm(ammonia_sensor=True), local_start(one_farm(), 0))
    farm = _farm(replace(config, warmup=False))
    by_hour: dict[int, list[float]] = {}
    for step in range(288):
        farm.advance_to(step)
        reading = farm.houses[0].reading
        assert reading is not None and reading.ammonia_ppm is not None
        by_hour.setdefault(reading.local.hour, []).append(reading.ammonia_ppm)
    morning = mean(by_hour[5] + by_hour[6])
    afternoon = mean(by_hour[14] + by_hour[15])
    assert morning > afternoon
    assert 5.0 < morning < 60.0


def test_heaters_run_on_cold_nights() -> None:
    config = starting_at(one_farm(growth_day=4, weather_mean_c=8.0), local_start(one_farm(), 2))
    farm = _farm(config)
    farm.advance_to(0)
    reading = farm.houses[0].reading
    assert reading is not None
    assert reading.heaters_on
    assert set(reading.heaters_on) <= set(curves.BROODING_HEATERS)
    assert reading.average_c == pytest.approx(reading.target_c, abs=2.0)
