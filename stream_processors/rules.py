"""Domain rules that growers expect, evaluated next to the statistical detectors.

Every function is pure: it takes values already in canonical units and returns a
:class:`Condition`. Limits come from broiler management guidance. CO2 above 3000 ppm is a
warning and above 5000 ppm critical. Ammonia above 20 ppm is a warning and above 25 ppm
critical. The water-to-feed ratio is normally 1.6 to 2.0 L/kg. Minimum-ventilation static
pressure runs around 12 to 30 Pa, with a typical target of 25 Pa.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from schemas.events import Severity
from stream_processors.alerts import Condition

# Default target temperature (°C) by growth day, used when a reading carries no target of its own.
_AGE_CURVE: tuple[tuple[int, float], ...] = (
    (-1, 32.5),
    (0, 33.0),
    (3, 31.5),
    (7, 30.0),
    (14, 27.5),
    (21, 25.0),
    (28, 23.0),
    (35, 21.0),
    (42, 20.0),
)


@dataclass(frozen=True)
class RuleLimits:
    """Thresholds of the domain rules, in canonical units."""

    temperature_warning_delta: float = 3.0
    temperature_critical_delta: float = 5.0
    # Ventilation brings in outside air, and the birds' heat warms it on its way to the fans, so even
    # full tunnel ventilation leaves the house about this much above the outside air (an estimate).
    tunnel_margin: float = 3.0
    # The controller lets the house reach its tunnel set point (target + 2 to 3 °C on a Rotem
    # Platinum) before it ventilates harder, so too hot counts from there.
    tunnel_differential: float = 2.0
    # Heaters start only when the house falls this far below target (the curve's heat set point,
    # usually 1 to 2 °C under it), so on a cool night the house settles down to there.
    heating_differential: float = 1.0
    pressure_warning_delta: float = 12.0
    pressure_critical_delta: float = 20.0
    pressure_band: tuple[float, float] = (8.0, 40.0)
    co2_warning_ppm: float = 3000.0
    co2_critical_ppm: float = 5000.0
    ammonia_warning_ppm: float = 20.0
    ammonia_critical_ppm: float = 25.0
    ratio_low: float = 1.3
    ratio_warning: float = 2.2
    ratio_critical: float = 2.5
    ratio_min_feed_kg: float = 100.0
    night_flow_litres_per_hour: float = 20.0
    night_hours: tuple[int, int] = (0, 4)
    recommend_co2_ppm: float = 2500.0
    recommend_ammonia_ppm: float = 15.0
    recommend_humidity_percent: float = 75.0


def target_for_age(growth_day: int) -> float:
    """Return the default target temperature for a growth day, interpolated linearly."""
    days = [day for day, _ in _AGE_CURVE]
    if growth_day <= days[0]:
        return _AGE_CURVE[0][1]
    if growth_day >= days[-1]:
        return _AGE_CURVE[-1][1]
    index = bisect_right(days, growth_day)
    (day_a, value_a), (day_b, value_b) = _AGE_CURVE[index - 1], _AGE_CURVE[index]
    return value_a + (value_b - value_a) * (growth_day - day_a) / (day_b - day_a)


def hot_reference(target: float, outside: float | None, limits: RuleLimits) -> float:
    """Return the temperature above which a house is hot: its tunnel set point or outside air + margin."""
    tunnel_set_point = target + limits.tunnel_differential
    if outside is None:
        return tunnel_set_point
    return max(tunnel_set_point, outside + limits.tunnel_margin)


def controlled_band(target: float, outside: float | None, limits: RuleLimits) -> tuple[float, float]:
    """Return the range a working controller holds the house in: heat set point to hot reference."""
    return target - limits.heating_differential, hot_reference(target, outside, limits)


def temperature_off_target(
    value: float, target: float, limits: RuleLimits, outside: float | None = None
) -> Condition:
    """Judge the house temperature against its target for the flock's age.

    Too cold is judged against the target. Too hot is judged against :func:`hot_reference`,
    because on a warm day a house in tunnel ventilation cannot cool below the outside air: a house
    a little above the outside temperature is the controller doing its job, not an alarm. A failing
    fan still shows, because the house then climbs well above that reference.
    """
    reference = hot_reference(target, outside, limits) if value > target else target
    delta = value - reference
    # A house between its target and the hot reference is neither too cold nor too hot.
    if abs(delta) < limits.temperature_warning_delta or (value > target and delta < 0):
        return Condition(active=False, value=value, expected=reference)
    severity: Severity = "critical" if abs(delta) >= limits.temperature_critical_delta else "warning"
    direction = "above" if delta > 0 else "below"
    evidence: dict[str, float] = {"delta": round(delta, 2), "target": round(target, 2)}
    if outside is not None:
        evidence["outside"] = round(outside, 2)
    reference_name = "target" if reference == target else "outside air plus the ventilation margin"
    return Condition(
        active=True,
        severity=severity,
        title=f"Temperature {abs(delta):.1f} °C {direction} {reference_name}",
        message=f"house temperature {value:.1f} °C, target {target:.1f} °C"
        + (f", outside {outside:.1f} °C" if outside is not None else ""),
        value=value,
        expected=reference,
        evidence=evidence,
    )


def static_pressure_out_of_band(value: float, target: float | None, limits: RuleLimits) -> Condition:
    """Judge static pressure against its target, or against the usual band when there is none."""
    severity: Severity
    if target is not None:
        delta = abs(value - target)
        if delta < limits.pressure_warning_delta:
            return Condition(active=False, value=value, expected=target)
        severity = "critical" if delta >= limits.pressure_critical_delta else "warning"
        expected = target
    else:
        low, high = limits.pressure_band
        if low <= value <= high:
            return Condition(active=False, value=value)
        severity = "warning"
        expected = (low + high) / 2
    return Condition(
        active=True,
        severity=severity,
        title="Static pressure out of band",
        message=f"static pressure {value:.1f} Pa, expected about {expected:.1f} Pa",
        value=value,
        expected=expected,
    )


def gas_over_limit(parameter: str, value: float, limits: RuleLimits) -> Condition:
    """Judge CO2 or ammonia against the welfare limits."""
    if parameter == "co2":
        warning, critical, name = limits.co2_warning_ppm, limits.co2_critical_ppm, "CO2"
    else:
        warning, critical, name = limits.ammonia_warning_ppm, limits.ammonia_critical_ppm, "Ammonia"
    if value <= warning:
        return Condition(active=False, value=value, expected=warning)
    severity: Severity = "critical" if value > critical else "warning"
    limit = critical if severity == "critical" else warning
    return Condition(
        active=True,
        severity=severity,
        title=f"{name} over welfare limit",
        message=f"{name} {value:.0f} ppm, limit {limit:.0f} ppm",
        value=value,
        expected=warning,
    )


def water_to_feed_ratio(water_litres: float, feed_kg: float, limits: RuleLimits) -> Condition | None:
    """Judge the day's water-to-feed ratio, or return None while too little feed was used to judge."""
    if feed_kg < limits.ratio_min_feed_kg:
        return None
    ratio = water_litres / feed_kg
    severity: Severity
    if limits.ratio_low <= ratio <= limits.ratio_warning:
        return Condition(active=False, value=ratio)
    if ratio < limits.ratio_low:
        severity, title = "warning", "Water-to-feed ratio low"
    else:
        severity = "critical" if ratio > limits.ratio_critical else "warning"
        title = "Water-to-feed ratio high"
    return Condition(
        active=True,
        severity=severity,
        title=title,
        message=f"{water_litres:.0f} L water for {feed_kg:.0f} kg feed today, ratio {ratio:.2f} L/kg",
        value=ratio,
        expected=1.8,
        evidence={"water_litres": water_litres, "feed_kg": feed_kg},
    )


def local_hour(controller_time: str | None) -> int | None:
    """Return the hour of the controller's local "HH:MM" time, or None if it is missing or malformed."""
    if controller_time is None:
        return None
    try:
        hour = int(controller_time.split(":", 1)[0])
    except ValueError:
        return None
    return hour if 0 <= hour < 24 else None


def is_night(controller_time: str | None, lights_running: float | None, limits: RuleLimits) -> bool:
    """Return whether the house is in its dark period: lights off if known, else the night hours."""
    if lights_running is not None:
        return lights_running == 0
    hour = local_hour(controller_time)
    if hour is None:
        return False
    start, end = limits.night_hours
    return start <= hour < end


def water_at_night(rate_per_hour: float, night: bool, limits: RuleLimits) -> Condition:
    """Judge water flowing through the dark period, the signature of a leak."""
    if not night or rate_per_hour <= limits.night_flow_litres_per_hour:
        return Condition(active=False, value=rate_per_hour)
    return Condition(
        active=True,
        severity="warning",
        title="Water flowing at night",
        message=f"water flowing at {rate_per_hour:.0f} L/h during the dark period",
        value=rate_per_hour,
        expected=limits.night_flow_litres_per_hour,
    )


def air_quality_reasons(
    co2: float | None, ammonia: float | None, humidity: float | None, limits: RuleLimits
) -> dict[str, float]:
    """Return the values of CO2, ammonia and humidity that call for more air, by name."""
    reasons: dict[str, float] = {}
    if co2 is not None and co2 > limits.recommend_co2_ppm:
        reasons["co2"] = co2
    if ammonia is not None and ammonia > limits.recommend_ammonia_ppm:
        reasons["ammonia"] = ammonia
    if humidity is not None and humidity > limits.recommend_humidity_percent:
        reasons["humidity"] = humidity
    return reasons


def needs_more_ventilation(
    reasons: dict[str, float], temperature: float | None, target: float | None
) -> dict[str, float] | None:
    """Return the evidence for raising minimum ventilation, or None when it is not advisable.

    More air is advisable when CO2, ammonia or humidity is high (``reasons``, from
    :func:`air_quality_reasons`) and the house is not below its target temperature, so the extra
    air does not chill the birds.
    """
    if not reasons or temperature is None:
        return None
    if target is not None and temperature < target - 0.5:
        return None
    evidence = {**reasons, "temperature": temperature}
    if target is not None:
        evidence["target"] = target
    return evidence
