"""Breed and controller curves of the house model: target temperature, feed, weight, lights, vent levels."""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache

# Target temperature curve (growth day, °C). Day 21 is 27.65 °C like the reference US farm.
TARGET_CURVE: tuple[tuple[float, float], ...] = (
    (-1, 32.5),
    (0, 33.0),
    (3, 31.5),
    (7, 30.0),
    (14, 27.5),
    (21, 27.65),
    (28, 23.0),
    (35, 21.0),
    (42, 20.0),
)

# Ross 308 (Aviagen 2022) as-hatched daily feed intake in g/bird/day for days 1..56.
ROSS308_FEED_G: tuple[int, ...] = (
    12,
    16,
    20,
    24,
    27,
    31,
    35,
    39,
    44,
    48,
    52,
    57,
    62,
    67,
    72,
    77,
    83,
    88,
    94,
    100,
    105,
    111,
    117,
    122,
    128,
    134,
    139,
    145,
    150,
    156,
    161,
    166,
    171,
    176,
    180,
    185,
    189,
    193,
    197,
    201,
    204,
    207,
    211,
    213,
    216,
    219,
    221,
    223,
    225,
    227,
    229,
    230,
    231,
    233,
    233,
    234,
)

# Ross 308 (Aviagen 2022) as-hatched body weight in grams by age in days.
ROSS308_WEIGHT_G: tuple[tuple[float, float], ...] = (
    (0, 44),
    (7, 213),
    (14, 533),
    (21, 1012),
    (28, 1616),
    (35, 2296),
    (42, 2998),
    (49, 3681),
    (56, 4318),
)

# Minimum ventilation level by growth day (the controller's Min/Max Levels table).
MIN_VENT_CURVE: tuple[tuple[float, float], ...] = (
    (-1, 1),
    (0, 2),
    (7, 4),
    (14, 5),
    (21, 6),
    (28, 8),
    (35, 10),
    (42, 12),
)

WATER_TO_FEED_RATIO = 1.8
"""Litres of water per kg of feed at thermoneutral temperature."""

# Ventilation levels 1..25: (tunnel fans on, exhaust fans on, duty cycle). Level 16 (2 tunnel fans)
# and 17 (2 tunnel + 1 exhaust) deliver 98,542 and 115,532 m³/h like the reference farm.
TUNNEL_FAN_M3H = 49_271.0
EXHAUST_FAN_M3H = 16_990.0
TUNNEL_FANS_INSTALLED = 12
EXHAUST_FANS_INSTALLED = 4
HEATERS_INSTALLED = 8
BROODING_HEATERS = (3, 4, 5, 6)
"""Heaters over the brooding zone, the only ones used before day 7."""

VENT_LEVELS: tuple[tuple[int, int, float], ...] = (
    (0, 1, 0.25),
    (0, 1, 0.5),
    (0, 1, 0.75),
    (0, 1, 1.0),
    (0, 2, 0.75),
    (0, 2, 1.0),
    (0, 3, 0.83),
    (0, 3, 1.0),
    (0, 4, 0.875),
    (0, 4, 1.0),
    (1, 2, 0.9),
    (1, 2, 1.0),
    (1, 3, 0.88),
    (1, 3, 0.93),
    (1, 3, 0.97),
    (2, 0, 1.0),
    (2, 1, 1.0),
    (2, 2, 1.0),
    (2, 3, 1.0),
    (2, 4, 1.0),
    (6, 0, 1.0),
    (8, 0, 1.0),
    (10, 0, 1.0),
    (12, 0, 1.0),
    (12, 4, 1.0),
)
MAX_VENT_LEVEL = len(VENT_LEVELS)
FIRST_TUNNEL_LEVEL = 21
MAX_AIRFLOW_M3H = TUNNEL_FANS_INSTALLED * TUNNEL_FAN_M3H + EXHAUST_FANS_INSTALLED * EXHAUST_FAN_M3H


def interpolate(curve: tuple[tuple[float, float], ...], x: float) -> float:
    """Interpolate linearly in a sorted (x, y) table, holding the end values outside it."""
    xs = [point[0] for point in curve]
    if x <= xs[0]:
        return curve[0][1]
    if x >= xs[-1]:
        return curve[-1][1]
    index = bisect_right(xs, x)
    (x0, y0), (x1, y1) = curve[index - 1], curve[index]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def target_temperature(age_days: float) -> float:
    """Return the curve's target temperature in °C; the controller interpolates within the day."""
    return interpolate(TARGET_CURVE, age_days)


def feed_g_per_bird_day(age_days: float) -> float:
    """Return the Ross 308 daily feed intake in g/bird for a fractional age (10 g on day 0)."""
    if age_days < 0:
        return 0.0
    day = int(age_days)
    if day == 0:
        return 10.0
    return float(ROSS308_FEED_G[min(day, len(ROSS308_FEED_G)) - 1])


def body_weight_kg(age_days: float) -> float:
    """Return the Ross 308 as-hatched body weight in kg."""
    return interpolate(ROSS308_WEIGHT_G, max(age_days, 0.0)) / 1000.0


def min_vent_level(growth_day: int) -> int:
    """Return the minimum ventilation level for the growth day."""
    return round(interpolate(MIN_VENT_CURVE, growth_day))


def level_airflow_m3h(level: int) -> float:
    """Return the nominal airflow of a ventilation level (1-based)."""
    tunnel, exhaust, duty = VENT_LEVELS[level - 1]
    return (tunnel * TUNNEL_FAN_M3H + exhaust * EXHAUST_FAN_M3H) * duty


def lights_on(growth_day: int, hour: float) -> bool:
    """Return whether the light program has the lights on: 23L:1D until day 7, then dark 22:00-04:00."""
    if growth_day < 7:
        return not 23.0 <= hour < 24.0
    return 4.0 <= hour < 22.0


def hourly_intake_weight(growth_day: int, hour: float) -> float:
    """Return the relative drinking and eating rate at a local hour, averaging 1.0 over a lit hour.

    Birds drink little in the dark and most after lights-on and in the afternoon.
    """
    if not lights_on(growth_day, hour):
        return 0.03
    if growth_day >= 7 and 4.0 <= hour < 6.0:
        return 1.6
    if 14.0 <= hour < 19.0:
        return 1.2
    return 0.9


def light_dimmer_percent(growth_day: int, hour: float) -> int:
    """Return the dimmer output in percent: bright for chicks, 35 % from day 14 like the reference farm."""
    if not lights_on(growth_day, hour):
        return 0
    if growth_day < 7:
        return 100
    if growth_day < 14:
        return 60
    return 35


@lru_cache(maxsize=256)
def daily_intake_norm(growth_day: int, steps_per_day: int) -> float:
    """Return the sum of hourly_intake_weight over the day's steps, which scales one step's share."""
    return sum(hourly_intake_weight(growth_day, step * 24.0 / steps_per_day) for step in range(steps_per_day))
