"""State model of broiler houses: weather, flock, controller and physics, advanced in 5-minute steps.

Everything is in SI-like units inside (°C, Pa, m³/h, kg, L); the renderers convert to the account's units.
A house's state after step k depends only on the configuration, the seed and the faults, so two runs
with the same inputs serve identical values.
"""

from __future__ import annotations

import math
import random
import threading
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from simulator import curves
from simulator.config import STEP, FarmConfig, FaultSpec, ReplaySpec, SimulatorConfig
from simulator.effects import NO_EFFECTS, HouseEffects, effects_for
from simulator.replay import ReplaySeries

STEP_SECONDS = STEP.total_seconds()
STEPS_PER_DAY = int(timedelta(days=1) / STEP)
INSIDE_PROBES = 8
OUTSIDE_PROBE = 9
HEATER_KW = 45.0
"""Heat output of one heater (about 150,000 BTU/h), in kW."""
AIR_HEAT_KJ_PER_M3K = 1.2 * 1.006
HOUSE_HEAT_CAPACITY_KJ_PER_K = 100_000.0
"""Air, birds, litter and structure together: the house's effective heat capacity."""
HOUSE_AIR_VOLUME_M3 = 150.0 * 15.0 * 3.0
INLET_AREA_M2 = 18.0
CURTAIN_AREA_M2 = 45.0
ORIFICE_PA_PER_VELOCITY2 = 1.667
"""Pressure drop of an inlet: 0.5 * rho / Cd^2 with rho 1.2 kg/m³ and Cd 0.6, in Pa per (m/s)²."""
TARGET_PRESSURE_PA = 24.9
TUNNEL_DIFFERENTIAL_C = 4.0
LEVELS_PER_DEGREE = 5.5
HEATER_ON_BELOW_C = 1.0
HEATER_OFF_BELOW_C = 0.2
OUTSIDE_CO2_PPM = 420.0


def stable_seed(*parts: object) -> int:
    """Return a seed that depends only on the parts (Python's hash() is salted per process)."""
    return zlib.crc32("/".join(str(part) for part in parts).encode())


def saturation_pressure_kpa(temperature_c: float) -> float:
    """Return the saturation vapour pressure of water over a flat surface (Magnus formula)."""
    return 0.61094 * math.exp(17.625 * temperature_c / (temperature_c + 243.04))


def humidity_ratio(temperature_c: float, relative_humidity: float) -> float:
    """Return kg water per kg dry air at sea level."""
    vapour = saturation_pressure_kpa(temperature_c) * relative_humidity / 100.0
    return 0.622 * vapour / (101.325 - vapour)


def relative_humidity(temperature_c: float, ratio: float) -> float:
    """Return the relative humidity in percent of air with this humidity ratio."""
    vapour = ratio * 101.325 / (0.622 + ratio)
    return max(1.0, min(100.0, 100.0 * vapour / saturation_pressure_kpa(temperature_c)))


@dataclass
class DailyRecord:
    """Per-growth-day totals and extremes, the rows of the history commands."""

    growth_day: int
    temp_min: float = math.inf
    temp_max: float = -math.inf
    temp_sum: float = 0.0
    humidity_min: float = math.inf
    humidity_max: float = -math.inf
    humidity_sum: float = 0.0
    samples: int = 0
    water_l: list[float] = field(default_factory=lambda: [0.0, 0.0])
    feed_kg: list[float] = field(default_factory=lambda: [0.0, 0.0])
    heater_seconds: list[float] = field(default_factory=lambda: [0.0] * 16)
    deaths: int = 0
    birds_at_end: int = 0

    def add_sample(self, temperature: float, humidity: float) -> None:
        """Record one step's measured average temperature and humidity."""
        self.temp_min = min(self.temp_min, temperature)
        self.temp_max = max(self.temp_max, temperature)
        self.temp_sum += temperature
        self.humidity_min = min(self.humidity_min, humidity)
        self.humidity_max = max(self.humidity_max, humidity)
        self.humidity_sum += humidity
        self.samples += 1

    @property
    def temp_avg(self) -> float:
        """Return the mean of the samples, NaN before the first one."""
        return self.temp_sum / self.samples if self.samples else math.nan

    @property
    def humidity_avg(self) -> float:
        """Return the mean humidity of the samples, NaN before the first one."""
        return self.humidity_sum / self.samples if self.samples else math.nan


@dataclass
class Reading:
    """Measured and displayed values of a controller after a step, in internal units."""

    instant: datetime
    local: datetime
    growth_day: int
    controller_time: str
    connected: bool
    connection_status: int
    probes: list[float | None]
    """Probes 1..8 inside and 9 outside; None means open (not readable)."""
    probe_in_average: list[bool]
    average_c: float
    outside_c: float | None
    """The outside probe (probe 9); None while it is open."""
    tunnel_c: float
    wind_chill_c: float
    target_c: float
    humidity: float
    static_pressure_pa: float
    target_pressure_pa: float
    vent_mode: int
    vent_level: int
    min_vent_level: int
    airflow_m3h: float
    tunnel_fans_on: int
    exhaust_fans_on: int
    cycling: bool
    heaters_on: list[int]
    stir_fans_on: int
    cool_pad_on: bool
    inlet_pct: float
    curtain_pct: float
    light_pct: int
    lights_on: bool
    feeding: bool
    co2_ppm: float | None
    ammonia_ppm: float | None
    water_today_l: float
    water_meters_l: tuple[float, float]
    feed_today_kg: float
    water_last_hour_l: float
    birds: int
    birds_placed: int
    average_weight_kg: float
    alarms: list[tuple[int, str]]
    power_failure: bool


class Weather:
    """Outdoor weather of one farm: a day-night cycle plus two slow fronts, a pure function of time."""

    def __init__(self, farm: FarmConfig, seed: int) -> None:
        rng = random.Random(stable_seed(seed, farm.farm_id, "weather"))
        self._mean = farm.weather_mean_c
        self._amplitude = farm.weather_amplitude_c
        self._dew_point = farm.dew_point_c
        self._phases = (rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
        self._periods_days = (rng.uniform(3.5, 5.0), rng.uniform(8.0, 11.0))

    def front_c(self, instant: datetime) -> float:
        """Return the slow weather-front offset in °C."""
        days = instant.timestamp() / 86400.0
        first = 2.0 * math.sin(2 * math.pi * days / self._periods_days[0] + self._phases[0])
        second = 1.0 * math.sin(2 * math.pi * days / self._periods_days[1] + self._phases[1])
        return first + second

    def temperature_c(self, instant: datetime, local_hour: float) -> float:
        """Return the outdoor temperature: coldest near 05:00, warmest near 15:00 local time."""
        daily = self._amplitude * math.cos(2 * math.pi * (local_hour - 15.0) / 24.0)
        return self._mean + daily + self.front_c(instant)

    def dew_point_c(self, instant: datetime, temperature_c: float) -> float:
        """Return the outdoor dew point, which follows the fronts and never exceeds the temperature."""
        return min(temperature_c - 0.5, self._dew_point + 0.6 * self.front_c(instant))


class HouseModel:
    """One house: flock, controller and physics."""

    def __init__(
        self,
        farm: FarmConfig,
        number: int,
        seed: int,
        day0: date,
        faults: list[FaultSpec],
        replay: ReplaySeries | None,
        replay_sensor: str,
    ) -> None:
        self.farm = farm
        self.number = number
        self.day0 = day0
        self.faults = faults
        self.replay = replay
        self.replay_sensor = replay_sensor
        self._rng = random.Random(stable_seed(seed, farm.farm_id, number, "house"))
        rng = self._rng
        self.birds_placed = int(farm.birds_per_house * rng.uniform(0.96, 1.04))
        self.birds = self.birds_placed
        self._weight_factor = rng.uniform(0.95, 1.05)
        self._outdoor_bias = rng.uniform(-2.5, 2.5)
        self._probe_offsets = [rng.gauss(0.0, 0.45) for _ in range(INSIDE_PROBES)]
        self._probe_wander = [0.0] * INSIDE_PROBES
        self._ua_kw_per_k = rng.uniform(1.3, 1.8)
        self._leak_area_m2 = rng.uniform(1.0, 1.5)
        self._solar_kw = rng.uniform(12.0, 20.0)
        self._meter_split = rng.uniform(0.46, 0.54)
        self._clock_offset_minutes = rng.choice((-1, 0, 0, 1))
        self._mortality_carry = rng.random()
        self._outdoor_noise = 0.0
        # Calibration offsets of the humidity and static-pressure sensors.
        self._humidity_offset = rng.uniform(-5.0, 5.0)
        self._pressure_offset = rng.uniform(-1.5, 1.5)
        # Controller and physical state.
        self.temperature_c = curves.target_temperature(21.0) + 2.0
        self.humidity_ratio = 0.016
        self.co2_ppm = 900.0
        self.ammonia_ppm = 5.0
        self.vent_mode = 1
        self.vent_level = 6
        self.heaters_on: list[int] = []
        self.cool_pad = False
        self.inlet_pct = 25.0
        self.inlet_trim = 0.0
        self.curtain_pct = 0.0
        self.static_pressure_pa = TARGET_PRESSURE_PA
        self.water_today = [0.0, 0.0]
        self.feed_today = [0.0, 0.0]
        self.water_hour: deque[float] = deque(maxlen=12)
        self.history: dict[int, DailyRecord] = {}
        self.hourly_avg: deque[float] = deque(maxlen=24)
        self.hourly_target: deque[float] = deque(maxlen=24)
        self._hour_sum = 0.0
        self._hour_target_sum = 0.0
        self._hour_samples = 0
        self._current_hour: int | None = None
        self._current_day: int | None = None
        self._measured_avg = self.temperature_c
        self._last_connected_time = "00:00"
        self.reading: Reading | None = None

    # -- flock -------------------------------------------------------------------------------------

    def growth_day(self, local: datetime) -> int:
        """Return the growth day: days since placement, incremented at local midnight."""
        return (local.date() - self.day0).days

    def _age_days(self, local: datetime) -> float:
        return self.growth_day(local) + (local.hour * 60 + local.minute) / 1440.0

    def weight_kg(self, age: float) -> float:
        """Return the average bird weight of this house's flock."""
        return curves.body_weight_kg(age) * self._weight_factor

    def daily_water_demand_l(self, growth_day: int) -> float:
        """Return the flock's water demand for a day at thermoneutral temperature."""
        feed_kg = self.birds * curves.feed_g_per_bird_day(growth_day) / 1000.0
        return feed_kg * curves.WATER_TO_FEED_RATIO

    def _intake_share(self, growth_day: int, hour: float) -> float:
        """Return the share of the day's intake that falls into one step at this hour."""
        weight = curves.hourly_intake_weight(growth_day, hour)
        return weight / curves.daily_intake_norm(growth_day, STEPS_PER_DAY)

    # -- synthetic past ------------------------------------------------------------------------------

    def fill_past_history(self, first_day: int, seed: int) -> None:
        """Write approximate daily records for growth days -1 .. first_day-1, before the simulated window.

        The days before the simulated window are not stepped, because that would cost a whole flock's
        steps per house at start-up. They follow the same curves with day-to-day noise.
        """
        rng = random.Random(stable_seed(seed, self.farm.farm_id, self.number, "past"))
        birds = self.birds_placed
        for day in range(-1, first_day):
            record = DailyRecord(day)
            target = curves.target_temperature(day + 0.5)
            average = target + rng.uniform(0.2, 1.6)
            record.temp_sum = average
            record.samples = 1
            record.temp_min = average - rng.uniform(0.4, 3.0)
            record.temp_max = average + rng.uniform(0.8, 2.4)
            humidity = rng.uniform(50.0, 72.0)
            record.humidity_sum = humidity
            record.humidity_min = humidity - rng.uniform(5.0, 12.0)
            record.humidity_max = humidity + rng.uniform(5.0, 12.0)
            if day >= 0:
                deaths = round(birds * (0.0015 if day < 7 else 0.0006) * rng.uniform(0.5, 1.5))
                birds -= deaths
                record.deaths = deaths
                feed = birds * curves.feed_g_per_bird_day(day) / 1000.0 * rng.uniform(0.95, 1.05)
                water = feed * curves.WATER_TO_FEED_RATIO * rng.uniform(0.94, 1.06)
                record.feed_kg = [feed * 0.5, feed * 0.5]
                record.water_l = [water * self._meter_split, water * (1 - self._meter_split)]
            heat_hours = max(0.0, 7.0 - 0.45 * max(day, 0)) * rng.uniform(0.7, 1.3)
            used = curves.BROODING_HEATERS if day < 7 else range(1, curves.HEATERS_INSTALLED + 1)
            for heater in used:
                record.heater_seconds[heater - 1] = heat_hours * 3600.0 * rng.uniform(0.8, 1.1)
            record.birds_at_end = birds
            self.history[day] = record
        self.birds = birds
        hourly_rng = random.Random(stable_seed(seed, self.farm.farm_id, self.number, "hours"))
        for hour in range(24):
            target = curves.target_temperature(first_day - 1 + hour / 24.0)
            swing = 1.2 * math.cos(2 * math.pi * (hour - 16) / 24.0)
            self.hourly_avg.append(target + 1.0 + swing + hourly_rng.uniform(-0.3, 0.3))
            self.hourly_target.append(target)

    # -- one step ------------------------------------------------------------------------------------

    def _probe_values(self, instant: datetime, effects: HouseEffects, outside: float) -> list[float | None]:
        values: list[float | None] = []
        for index in range(INSIDE_PROBES):
            name = f"Temperature_Sensor_{index + 1}"
            self._probe_wander[index] = 0.9 * self._probe_wander[index] + self._rng.gauss(0.0, 0.05)
            value: float | None = self.temperature_c + self._probe_offsets[index] + self._probe_wander[index]
            if self.replay is not None and name == self.replay_sensor:
                value = self.replay.value_at(instant)
            if name in effects.probe_drift_c and value is not None:
                value += effects.probe_drift_c[name]
            if name in effects.probe_short:
                value = effects.probe_short[name]
            if name in effects.probe_open:
                value = None
            values.append(value)
        outside_name = f"Temperature_Sensor_{OUTSIDE_PROBE}"
        outside_value: float | None = outside + effects.probe_drift_c.get(outside_name, 0.0)
        if outside_name in effects.probe_short:
            outside_value = effects.probe_short[outside_name]
        if outside_name in effects.probe_open:
            outside_value = None
        values.append(outside_value)
        return values

    def _in_average(self, values: list[float | None]) -> list[bool]:
        # The controller leaves out unreadable or out-of-range probes and the replayed probe.
        flags = []
        for index, value in enumerate(values[:INSIDE_PROBES]):
            name = f"Temperature_Sensor_{index + 1}"
            usable = value is not None and -10.0 < value < 60.0
            flags.append(usable and not (self.replay is not None and name == self.replay_sensor))
        return flags

    def step(self, instant: datetime, local: datetime, effects: HouseEffects) -> None:
        """Advance the house by one 5-minute step ending at ``instant``."""
        growth_day = self.growth_day(local)
        hour = local.hour + local.minute / 60.0
        age = self._age_days(local)
        self._roll_day(growth_day)
        weight = self.weight_kg(age)
        target = curves.target_temperature(growth_day)
        min_level = curves.min_vent_level(growth_day)
        tunnel_set = target + TUNNEL_DIFFERENTIAL_C
        measured = self._measured_avg

        # Controller: heaters, ventilation level and mode, inlet and curtain positions.
        available = list(curves.BROODING_HEATERS) if growth_day < 7 else list(range(1, 9))
        if effects.power_failure:
            heaters = 0
        elif measured < target - HEATER_ON_BELOW_C:
            heaters = min(len(available), max(1, math.ceil((target - measured) / 0.35)))
        elif measured > target - HEATER_OFF_BELOW_C:
            heaters = 0
        else:
            heaters = len(self.heaters_on)
        self.heaters_on = sorted(available[:heaters])

        if self.vent_mode == 2 and measured < tunnel_set - 2.0 and not self.cool_pad:
            self.vent_mode = 1
        elif self.vent_mode == 1 and measured > tunnel_set:
            self.vent_mode = 2
        if self.vent_mode == 1:
            desired = min_level + math.floor(max(0.0, measured - target) * LEVELS_PER_DEGREE)
            desired = min(desired, curves.FIRST_TUNNEL_LEVEL - 1)
        else:
            desired = curves.FIRST_TUNNEL_LEVEL + math.floor(max(0.0, measured - tunnel_set) / 0.6)
        if self.heaters_on:
            desired = min_level
        desired = max(min_level, min(curves.MAX_VENT_LEVEL, desired))
        self.vent_level += max(-2, min(2, desired - self.vent_level))

        nominal = curves.level_airflow_m3h(self.vent_level)
        # Opening that gives the target static pressure at this level's nominal airflow. The tunnel
        # curtain moves first and the side inlets cover the rest, so mode changes do not spike the pressure.
        needed_m2 = (
            nominal / 3600.0 / math.sqrt(TARGET_PRESSURE_PA / ORIFICE_PA_PER_VELOCITY2) - self._leak_area_m2
        )
        wanted_curtain = needed_m2 / CURTAIN_AREA_M2 * 100.0 if self.vent_mode == 2 else 0.0
        wanted_curtain = max(0.0, min(100.0, wanted_curtain))
        self.curtain_pct += max(-15.0, min(20.0, wanted_curtain - self.curtain_pct))
        remaining_m2 = needed_m2 - CURTAIN_AREA_M2 * self.curtain_pct / 100.0
        # The pressure trim integrates only while the inlet can move, so it does not wind up at 0 %.
        if remaining_m2 > 0.0:
            error_pa = self.static_pressure_pa - TARGET_PRESSURE_PA
            self.inlet_trim = max(-4.0, min(4.0, self.inlet_trim + 0.15 * error_pa))
        wanted_inlet = max(0.0, min(100.0, remaining_m2 / INLET_AREA_M2 * 100.0 + self.inlet_trim))
        if effects.inlet_stuck_at is None:
            self.inlet_pct += max(-50.0, min(50.0, wanted_inlet - self.inlet_pct))
        elif not math.isnan(effects.inlet_stuck_at):
            self.inlet_pct = effects.inlet_stuck_at

        # Physics: airflow, static pressure, heat, moisture and gases.
        outside = self.farm_weather_temperature + self._outdoor_bias * 0.3
        if effects.power_failure:
            airflow = 22_000.0
            area = self._leak_area_m2 + INLET_AREA_M2 + CURTAIN_AREA_M2
        else:
            airflow = nominal * effects.fan_capacity_factor + 2_500.0
            area = (
                self._leak_area_m2
                + INLET_AREA_M2 * self.inlet_pct / 100.0
                + CURTAIN_AREA_M2 * self.curtain_pct / 100.0
            )
        velocity = airflow / 3600.0 / area
        self.static_pressure_pa = ORIFICE_PA_PER_VELOCITY2 * velocity * velocity

        relative_out = relative_humidity(outside, humidity_ratio(self.farm_dew_point, 100.0))
        inside_rh = relative_humidity(self.temperature_c, self.humidity_ratio)
        # Cool pads: on above the tunnel set point + 1 °C, off below + 0.3 °C or above 80 % RH.
        if effects.power_failure or self.vent_mode != 2 or inside_rh >= 80.0 or measured < tunnel_set + 0.3:
            self.cool_pad = False
        elif measured > tunnel_set + 1.0:
            self.cool_pad = True
        cool_pad = self.cool_pad
        incoming = outside
        incoming_ratio = humidity_ratio(self.farm_dew_point, 100.0)
        if cool_pad:
            wet_bulb = self._wet_bulb(outside, relative_out)
            incoming = outside - 0.7 * (outside - wet_bulb)
            incoming_ratio = humidity_ratio(incoming, min(95.0, relative_out + 35.0))
        working_heaters = [number for number in self.heaters_on if number not in effects.failed_heaters]
        bird_heat_kw = self.birds * 5.0 * weight**0.75 / 1000.0
        solar = self._solar_kw * max(0.0, math.sin(math.pi * (hour - 6.0) / 14.0)) if 6 <= hour <= 20 else 0.0
        heat_kw = bird_heat_kw + HEATER_KW * len(working_heaters) + solar
        conductance = AIR_HEAT_KJ_PER_M3K * airflow / 3600.0 + self._ua_kw_per_k
        equilibrium = (
            incoming * AIR_HEAT_KJ_PER_M3K * airflow / 3600.0 + outside * self._ua_kw_per_k + heat_kw
        ) / conductance
        decay = math.exp(-STEP_SECONDS * conductance / HOUSE_HEAT_CAPACITY_KJ_PER_K)
        self.temperature_c = equilibrium + (self.temperature_c - equilibrium) * decay

        air_exchange = math.exp(-STEP_SECONDS * airflow / 3600.0 / HOUSE_AIR_VOLUME_M3)
        share = self._intake_share(growth_day, hour)
        demand_l = self.daily_water_demand_l(growth_day) * share
        demand_l *= 1.0 + 0.03 * max(0.0, self.temperature_c - 26.0)
        if effects.outage_hours > 6.0:
            demand_l *= 0.7
        drunk_l = demand_l * effects.water_supply_factor
        leak_l = effects.leak_l_per_hour * STEP_SECONDS / 3600.0
        moisture_kg_s = (0.75 * drunk_l + 0.3 * leak_l) / STEP_SECONDS
        mass_flow = 1.2 * airflow / 3600.0
        ratio_eq = incoming_ratio + moisture_kg_s / mass_flow
        self.humidity_ratio = ratio_eq + (self.humidity_ratio - ratio_eq) * air_exchange

        co2_m3h = self.birds * weight * 1.6e-3 + 0.107 * HEATER_KW * len(working_heaters)
        co2_eq = OUTSIDE_CO2_PPM + co2_m3h / airflow * 1e6
        self.co2_ppm = co2_eq + (self.co2_ppm - co2_eq) * air_exchange
        litter = 1.0 + min(2.0, effects.leak_l_per_hour / 50.0)
        nh3_eq = 107.0 * self.birds * weight * max(0.0, growth_day - 5) / 30.0 * litter / airflow
        self.ammonia_ppm = nh3_eq + (self.ammonia_ppm - nh3_eq) * air_exchange

        # Meters, feed, flock.
        water_l = drunk_l + leak_l
        self.water_today[0] += water_l * self._meter_split
        self.water_today[1] += water_l * (1.0 - self._meter_split)
        self.water_hour.append(water_l)
        feed_kg = self.birds * curves.feed_g_per_bird_day(growth_day) / 1000.0 * share
        if effects.power_failure:
            feed_kg = 0.0
        elif effects.outage_hours > 6.0:
            feed_kg *= 0.5
        self.feed_today[0] += feed_kg * 0.5
        self.feed_today[1] += feed_kg * 0.5
        if growth_day >= 0:
            daily_rate = 0.0015 if growth_day < 7 else 0.0006
            self._mortality_carry += self.birds * daily_rate / STEPS_PER_DAY * self._rng.uniform(0.0, 2.0)
            deaths = int(self._mortality_carry)
            self._mortality_carry -= deaths
            self.birds -= deaths
            self._today.deaths += deaths
        for number in working_heaters:
            self._today.heater_seconds[number - 1] += STEP_SECONDS

        # Measurements shown after the step.
        self._outdoor_noise = 0.8 * self._outdoor_noise + self._rng.gauss(0.0, 0.08)
        outside_probe = self.farm_weather_temperature + self._outdoor_bias + self._outdoor_noise
        values = self._probe_values(instant, effects, outside_probe)
        in_average = self._in_average(values)
        used = [value for value, flag in zip(values, in_average, strict=False) if flag and value is not None]
        average = sum(used) / len(used) if used else self.temperature_c
        self._measured_avg = average
        humidity = max(
            1.0,
            min(100.0, relative_humidity(self.temperature_c, self.humidity_ratio) + self._humidity_offset),
        )
        self._today.add_sample(average, humidity)
        self._today.water_l = list(self.water_today)
        self._today.feed_kg = list(self.feed_today)
        self._today.birds_at_end = self.birds
        self._track_hour(local, average, target)

        tunnel, exhaust, duty = curves.VENT_LEVELS[self.vent_level - 1]
        if effects.power_failure:
            tunnel = exhaust = 0
        controller_local = local + timedelta(minutes=self._clock_offset_minutes)
        controller_time = controller_local.strftime("%H:%M")
        if not effects.offline:
            self._last_connected_time = controller_time
        air_speed = airflow / 3600.0 / 45.0
        chill = average - (2.8 * max(0.0, air_speed - 0.3) if self.vent_mode == 2 else 0.0)
        self.reading = Reading(
            instant=instant,
            local=local,
            growth_day=growth_day,
            controller_time=self._last_connected_time,
            connected=not effects.offline,
            connection_status=effects.offline_status if effects.offline else 1,
            probes=values,
            probe_in_average=in_average,
            average_c=average,
            outside_c=values[OUTSIDE_PROBE - 1],
            tunnel_c=average - 0.05 + self._probe_wander[0] * 0.5,
            wind_chill_c=chill,
            target_c=target,
            humidity=humidity,
            static_pressure_pa=max(
                0.0, self.static_pressure_pa + self._pressure_offset + self._rng.gauss(0.0, 0.4)
            ),
            target_pressure_pa=TARGET_PRESSURE_PA,
            vent_mode=self.vent_mode,
            vent_level=self.vent_level,
            min_vent_level=min_level,
            airflow_m3h=0.0 if effects.power_failure else nominal,
            tunnel_fans_on=tunnel,
            exhaust_fans_on=exhaust,
            cycling=duty < 1.0 and not effects.power_failure,
            heaters_on=list(self.heaters_on),
            stir_fans_on=2 if (self.heaters_on and growth_day < 14) else 0,
            cool_pad_on=cool_pad,
            inlet_pct=self.inlet_pct,
            curtain_pct=self.curtain_pct,
            light_pct=0 if effects.power_failure else curves.light_dimmer_percent(growth_day, hour),
            lights_on=curves.lights_on(growth_day, hour) and not effects.power_failure,
            feeding=feed_kg > 0 and curves.lights_on(growth_day, hour),
            co2_ppm=self.co2_ppm if self.farm.co2_sensor else None,
            ammonia_ppm=self.ammonia_ppm if self.farm.ammonia_sensor else None,
            water_today_l=sum(self.water_today),
            water_meters_l=(self.water_today[0], self.water_today[1]),
            feed_today_kg=sum(self.feed_today),
            water_last_hour_l=sum(self.water_hour),
            birds=self.birds,
            birds_placed=self.birds_placed,
            average_weight_kg=weight,
            alarms=[],
            power_failure=effects.power_failure,
        )
        self.reading.alarms = self._alarms(self.reading, effects, hour, growth_day)

    # Weather values are set by the farm before each step.
    farm_weather_temperature = 20.0
    farm_dew_point = 15.0

    @staticmethod
    def _wet_bulb(temperature: float, humidity: float) -> float:
        # Stull (2011) approximation, valid for 5-99 % RH at sea level.
        return (
            temperature * math.atan(0.151977 * math.sqrt(humidity + 8.313659))
            + math.atan(temperature + humidity)
            - math.atan(humidity - 1.676331)
            + 0.00391838 * math.pow(humidity, 1.5) * math.atan(0.023101 * humidity)
            - 4.686035
        )

    def _roll_day(self, growth_day: int) -> None:
        if self._current_day == growth_day:
            return
        if self._current_day is not None:
            self.water_today = [0.0, 0.0]
            self.feed_today = [0.0, 0.0]
        self._current_day = growth_day
        self._today = self.history.setdefault(growth_day, DailyRecord(growth_day, birds_at_end=self.birds))

    def _track_hour(self, local: datetime, average: float, target: float) -> None:
        if self._current_hour is not None and local.hour != self._current_hour and self._hour_samples:
            self.hourly_avg.append(self._hour_sum / self._hour_samples)
            self.hourly_target.append(self._hour_target_sum / self._hour_samples)
            self._hour_sum = self._hour_target_sum = 0.0
            self._hour_samples = 0
        self._current_hour = local.hour
        self._hour_sum += average
        self._hour_target_sum += target
        self._hour_samples += 1

    def _alarms(
        self, reading: Reading, effects: HouseEffects, hour: float, growth_day: int
    ) -> list[tuple[int, str]]:
        alarms: list[tuple[int, str]] = []
        if reading.average_c < reading.target_c - 3.0:
            alarms.append((1, "Low Temperature"))
        # Ventilation cannot cool below the outside air, so the high alarm allows for a hot day.
        outside = reading.outside_c if reading.outside_c is not None else -math.inf
        if reading.average_c > max(reading.target_c + 6.0, outside + 4.0):
            alarms.append((2, "High Temperature"))
        for index, value in enumerate(reading.probes):
            number = index + 1
            if value is None:
                alarms.append((126 if number == OUTSIDE_PROBE else 112, f"Temp. Sensor {number} Opened"))
            elif value >= 90.0:
                alarms.append((125 if number == OUTSIDE_PROBE else 111, f"Temp. Sensor {number} Shorted"))
        if effects.power_failure:
            alarms.append((165, "Power Failure"))
        if effects.failed_heaters and reading.heaters_on:
            alarms.append((239, "Burner Recovery Failure"))
        if not effects.power_failure and reading.static_pressure_pa < 10.0 and reading.vent_mode == 1:
            alarms.append((31, "Low Pressure"))
        if reading.static_pressure_pa > 45.0:
            alarms.append((32, "High Pressure"))
        if effects.leak_l_per_hour > 0 and not curves.lights_on(growth_day, hour):
            alarms.append((103, "Water 1 Leak"))
        if effects.water_supply_factor < 0.5:
            alarms.append((102, "Water 1 Shortage"))
        return alarms


class FarmModel:
    """All houses of one account, stepped together under one lock."""

    def __init__(self, config: SimulatorConfig, farm: FarmConfig, replay: ReplaySeries | None) -> None:
        self.config = config
        self.farm = farm
        self.zone = ZoneInfo(farm.timezone)
        self.weather = Weather(farm, config.seed)
        self.lock = threading.RLock()
        start_local = config.start.astimezone(self.zone)
        self.day0 = start_local.date() - timedelta(days=farm.growth_day_at_start)
        house_faults: dict[int, list[FaultSpec]] = {}
        for fault in config.faults:
            if fault.farm_id == farm.farm_id and fault.house is not None:
                house_faults.setdefault(fault.house, []).append(fault)
        replay_spec: ReplaySpec | None = config.replay
        self.houses = [
            HouseModel(
                farm,
                number,
                config.seed,
                self.day0,
                house_faults.get(number, []),
                replay
                if replay_spec and replay_spec.farm_id == farm.farm_id and replay_spec.house == number
                else None,
                replay_spec.sensor if replay_spec else "",
            )
            for number in range(1, farm.houses + 1)
        ]
        if config.warmup:
            midnight = start_local.replace(hour=0, minute=0, second=0, microsecond=0)
            self.first_step = -int((start_local - midnight) / STEP)
        else:
            self.first_step = 0
        first_local = (config.start + self.first_step * STEP).astimezone(self.zone)
        first_day = (first_local.date() - self.day0).days
        for house in self.houses:
            house.fill_past_history(first_day, config.seed)
            house.temperature_c = curves.target_temperature(first_day) + 1.0
        self.step = self.first_step - 1

    def instant(self, step: int) -> datetime:
        """Return the simulated UTC instant at the end of a step."""
        return self.config.start + step * STEP

    def advance_to(self, step: int) -> None:
        """Compute every step up to and including ``step``; earlier steps are never recomputed."""
        with self.lock:
            while self.step < step:
                self.step += 1
                self._step_once(self.step)

    def _step_once(self, step: int) -> None:
        instant = self.instant(step)
        local = instant.astimezone(self.zone)
        hour = local.hour + local.minute / 60.0
        outside = self.weather.temperature_c(instant, hour)
        dew_point = self.weather.dew_point_c(instant, outside)
        for house in self.houses:
            house.farm_weather_temperature = outside
            house.farm_dew_point = dew_point
            effects = NO_EFFECTS
            if house.faults:
                growth_day = house.growth_day(local)
                hourly = house.daily_water_demand_l(growth_day) / 24.0
                effects = effects_for(house.faults, instant, hourly)
            house.step(instant, local, effects)
