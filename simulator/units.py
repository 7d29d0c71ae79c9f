"""Unit conversion and Rotem-style number formatting for one account's unit settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulator.config import UnitSettings

PA_PER_INWC = 249.0889
M3H_PER_CFM = 1.699011
KG_PER_LB = 0.45359237
L_PER_GAL = 3.785411784


def round_half_up(value: float, decimals: int) -> float:
    """Round half away from zero on the shortest decimal form, as the portal shows 27.65 as "27.7"."""
    scale = 10**decimals
    shifted = float(repr(value)) * scale
    rounded = math.floor(abs(shifted) + 0.5 + 1e-9) / scale
    return math.copysign(rounded, value)


def trim_number(value: float, decimals: int) -> str:
    """Format like the portal's raw values: rounded, no trailing zeros or bare point ("24.9", "24")."""
    text = f"{round_half_up(value, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fixed(value: float, decimals: int) -> str:
    """Format with exactly ``decimals`` decimals and comma thousands separators ("115,532", "27.7")."""
    text = f"{round_half_up(value, decimals):,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def truncate(value: float) -> str:
    """Format as an integer by dropping the fraction, as the view tables do for pressures ("24.9" -> "24")."""
    return str(math.trunc(value))


@dataclass(frozen=True)
class UnitRenderer:
    """Convert internal values (°C, Pa, m³/h, kg, L) into an account's units and signs."""

    units: UnitSettings

    @property
    def imperial_temperature(self) -> bool:
        """Return whether temperatures are in °F."""
        return self.units.temperature == "F"

    def temperature(self, celsius: float) -> float:
        """Convert an absolute temperature."""
        return celsius * 9.0 / 5.0 + 32.0 if self.imperial_temperature else celsius

    def temperature_difference(self, celsius: float) -> float:
        """Convert a temperature difference."""
        return celsius * 9.0 / 5.0 if self.imperial_temperature else celsius

    def pressure(self, pascal: float) -> float:
        """Convert a differential pressure."""
        return pascal / PA_PER_INWC if self.units.pressure == "inWC" else pascal

    def capacity(self, m3h: float) -> float:
        """Convert an airflow."""
        return m3h / M3H_PER_CFM if self.units.capacity == "CFM" else m3h

    def weight(self, kg: float) -> float:
        """Convert a mass."""
        return kg / KG_PER_LB if self.units.weight == "lb" else kg

    def volume(self, litres: float) -> float:
        """Convert a volume of water."""
        return litres / L_PER_GAL if self.units.volume == "gal" else litres

    # Raw strings (General/TempSensor tables) and formatted strings (views and comparison).

    def raw_temperature(self, celsius: float) -> str:
        """Return a temperature at the controller's raw precision."""
        return trim_number(self.temperature(celsius), 2)

    def view_temperature(self, celsius: float) -> str:
        """Return a temperature with one decimal."""
        return fixed(self.temperature(celsius), 1)

    @property
    def pressure_decimals(self) -> int:
        """Return the decimals a pressure is shown with: whole pascals or thousandths of an inch."""
        return 3 if self.units.pressure == "inWC" else 0

    def raw_pressure(self, pascal: float, decimals: int = 0) -> str:
        """Return a pressure at raw precision; pascals carry ``decimals`` decimals."""
        if self.units.pressure == "inWC":
            return trim_number(self.pressure(pascal), 3)
        return trim_number(pascal, decimals)

    def view_pressure(self, pascal: float) -> str:
        """Return a pressure as the view tables show it: pascals truncated, inches with three decimals."""
        if self.units.pressure == "inWC":
            return fixed(self.pressure(pascal), 3)
        return truncate(pascal)

    def comparison_pressure(self, pascal: float) -> str:
        """Return a pressure as the comparison screen shows it: rounded."""
        return fixed(self.pressure(pascal), self.pressure_decimals)

    def signs(self) -> dict[str, str]:
        """Return DicUintsSigns, the unit sign per unit type."""
        imperial_length = self.units.temperature == "F"
        return {
            "UT_Temperature": "F°" if self.imperial_temperature else "C°",
            "UT_Length": "Non Metric" if imperial_length else "Metric",
            "UT_Length_WOC": "Non Metric" if imperial_length else "Metric",
            "UT_Length_CM": "Non Metric" if imperial_length else "Metric",
            "UT_Weight": "LB" if self.units.weight == "lb" else "KG",
            "UT_Pressure": "IN.W.C" if self.units.pressure == "inWC" else "Pa",
            "UT_WindSpeed": "Feet/Min" if imperial_length else "Meter/Sec",
            "UT_Capacity": "CFM" if self.units.capacity == "CFM" else "M3/H",
            "UT_Volume": "GL" if self.units.volume == "gal" else "",
            "UT_Percent": "%",
        }

    def converter_settings(self) -> dict[str, Any]:
        """Return UnitConverterSettings with the enum values of eTempUnits, ePressureUnits and friends."""
        imperial = self.units.temperature == "F"
        temperature = 1 if imperial else 0
        weight = 1 if self.units.weight == "lb" else 0
        pressure = 1 if self.units.pressure == "inWC" else 2
        capacity = 1 if self.units.capacity == "CFM" else 0
        volume = 1 if self.units.volume == "gal" else 0
        speed = 4 if imperial else 2
        names = (
            f"{'Fahrenheit' if imperial else 'Celsius'}.{temperature}."
            f"{'Lb' if weight else 'Kg'}.{weight}."
            f"{'INWC' if pressure == 1 else 'PASCAL'}.{pressure}."
            f"{'CFM' if capacity else 'm3h'}.{capacity}."
            f"{'NON_METRIC' if imperial else 'METERIC'}.{1 if imperial else 0}."
            f"{'Gallon' if volume else 'Litter'}.{volume}."
            f"{'FEET_MIN' if imperial else 'M_SEC'}.{speed}."
            f"{'INCH' if imperial else 'MM'}.{1 if imperial else 0}"
        )
        return {
            "TemperatureUnit": temperature,
            "WeightUnit": weight,
            "PressureUnit": pressure,
            "CapacityUnit": capacity,
            "LengthUnit": 1 if imperial else 0,
            "VolumeFluidUnit": volume,
            "SpeedUnit": speed,
            "RainUnit": 1 if imperial else 0,
            "UnitsStr": names,
        }
