"""Conversion of portal values to farmstream's canonical units (°C, Pa, kg, L, m³/h, m/s).

Units are chosen per user account on the portal. The scraper learns them from the payload: a unit
sign sent next to a value (``Set_Temperature_Sign: "C°"`` in a ``*_View`` table) decides that
value's unit. Otherwise the account's settings decide (``UserInfo.UnitConverterSettings`` of the
login's ``FarmUser`` or of ``JsGlobals_GetJsGlobals``). A sign, setting or unit type that is not
in the tables below raises :class:`UnitError`, so an unknown unit is dead-lettered and never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from producers.exceptions import UnitError
from schemas.events import Unit

Quantity = Literal[
    "temperature",
    "temperature_difference",
    "pressure",
    "weight",
    "volume",
    "airflow",
    "speed",
    "percent",
    "number",
    "duration",
    "ratio",
    "length",
]

CONVERTIBLE: frozenset[Quantity] = frozenset(
    {"temperature", "temperature_difference", "pressure", "weight", "volume", "airflow", "speed"}
)

UNIT_TYPE_QUANTITY: dict[str, Quantity] = {
    "UT_Temperature": "temperature",
    "UT_Temperature_Diff": "temperature_difference",
    "UT_Pressure": "pressure",
    "UT_Weight": "weight",
    "UT_Volume": "volume",
    "UT_Capacity": "airflow",
    "UT_WindSpeed": "speed",
    "UT_Percent": "percent",
    "UT_Number": "number",
    "UT_Time": "duration",
    "UT_WaterFeedRate": "ratio",
    "UT_Length": "length",
    "UT_Length_WOC": "length",
    "UT_Length_CM": "length",
}
"""Portal unit types (``ParameterUnitType``, ``MDT.UnitType``) and the quantity each measures."""

CANONICAL_QUANTITY: dict[Unit, Quantity] = {
    "degC": "temperature",
    "Pa": "pressure",
    "kg": "weight",
    "L": "volume",
    "m3/h": "airflow",
    "m/s": "speed",
    "%": "percent",
    "ppm": "number",
    "count": "number",
    "state": "number",
    "deg": "number",
    "ratio": "ratio",
    "s": "duration",
}


@dataclass(frozen=True)
class SourceUnit:
    """A portal unit: canonical value = value * factor + offset (offset only for absolute temperatures)."""

    name: str
    quantity: Quantity
    factor: float
    offset: float = 0.0


_UNITS = [
    SourceUnit("degC", "temperature", 1.0),
    SourceUnit("degF", "temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    SourceUnit("Pa", "pressure", 1.0),
    SourceUnit("inWC", "pressure", 249.08891),  # inch of water column at 4 °C
    SourceUnit("mbar", "pressure", 100.0),
    SourceUnit("mmWC", "pressure", 9.80665),
    SourceUnit("cmWC", "pressure", 98.0665),
    SourceUnit("bar", "pressure", 100_000.0),
    SourceUnit("psi", "pressure", 6894.757293168),
    SourceUnit("kg", "weight", 1.0),
    SourceUnit("lb", "weight", 0.45359237),
    SourceUnit("L", "volume", 1.0),
    SourceUnit("gal", "volume", 3.785411784),  # US gallon
    SourceUnit("m3/h", "airflow", 1.0),
    SourceUnit("CFM", "airflow", 1.6990107955),  # ft³/min: 0.028316846592 m³ * 60
    SourceUnit("m/s", "speed", 1.0),
    SourceUnit("km/h", "speed", 1.0 / 3.6),
    SourceUnit("mph", "speed", 0.44704),
    SourceUnit("ft/s", "speed", 0.3048),
    SourceUnit("ft/min", "speed", 0.00508),
]
UNITS: dict[str, SourceUnit] = {unit.name: unit for unit in _UNITS}

# Signs as the portal writes them (its language table and DicUintsSigns), normalised by _normalise_sign.
_SIGNS: dict[str, str] = {
    "C": "degC",
    "CELSIUS": "degC",
    "F": "degF",
    "FAHRENHEIT": "degF",
    "PA": "Pa",
    "PASCAL": "Pa",
    "IN.W.C": "inWC",
    "INWC": "inWC",
    "INH2O": "inWC",
    "MILIBAR": "mbar",
    "MILLIBAR": "mbar",
    "MBAR": "mbar",
    "MM.W.C": "mmWC",
    "MMWC": "mmWC",
    "CM.W.C": "cmWC",
    "CMWC": "cmWC",
    "BAR": "bar",
    "PSI": "psi",
    "KG": "kg",
    "KGS": "kg",
    "LB": "lb",
    "LBS": "lb",
    "M3/H": "m3/h",
    "M3H": "m3/h",
    "CFM": "CFM",
    "LT": "L",
    "L": "L",
    "LITER": "L",
    "LITRE": "L",
    "LITTER": "L",
    "GL": "gal",
    "GAL": "gal",
    "GALLON": "gal",
    "METER/SEC": "m/s",
    "M/SEC": "m/s",
    "M/S": "m/s",
    "M_SEC": "m/s",
    "KM/HOUR": "km/h",
    "KM/H": "km/h",
    "KMH": "km/h",
    "KM_H": "km/h",
    "MILE/HOUR": "mph",
    "MPH": "mph",
    "MILE_H": "mph",
    "FEET/SEC": "ft/s",
    "FT/S": "ft/s",
    "FEET_SEC": "ft/s",
    "FEET/MIN": "ft/min",
    "FT/MIN": "ft/min",
    "FEET_MIN": "ft/min",
}

# UnitConverterSettings enum values (eTempUnits, ePressureUnits, ... in JsGlobals).
_TEMPERATURE_SETTING = {0: "degC", 1: "degF"}
_WEIGHT_SETTING = {0: "kg", 1: "lb"}
_PRESSURE_SETTING = {0: "mbar", 1: "inWC", 2: "Pa", 3: "cmWC", 4: "mmWC", 5: "bar", 6: "psi"}
_CAPACITY_SETTING = {0: "m3/h", 1: "CFM"}
_VOLUME_SETTING = {0: "L", 1: "gal"}
_SPEED_SETTING = {0: "km/h", 1: "mph", 2: "m/s", 3: "ft/s", 4: "ft/min"}


def _normalise_sign(sign: str) -> str:
    return sign.strip().upper().replace("°", "").replace("º", "").replace("³", "3").replace(" ", "")


def unit_from_sign(sign: str) -> str:
    """Return the unit name of a portal unit sign such as ``"C°"``, ``"IN.W.C"`` or ``"GL"``."""
    name = _SIGNS.get(_normalise_sign(sign))
    if name is None:
        raise UnitError(f"unknown unit sign {sign!r}: add it to producers.units if the portal uses it")
    return name


def quantity_of_unit_type(unit_type: str) -> Quantity:
    """Return the quantity a portal unit type measures, raising UnitError for an unknown type."""
    quantity = UNIT_TYPE_QUANTITY.get(unit_type)
    if quantity is None:
        raise UnitError(f"unknown unit type {unit_type!r}: add it to producers.units if the portal uses it")
    return quantity


@dataclass(frozen=True)
class UnitSettings:
    """The units one portal account displays; None where the account states none."""

    temperature: str | None
    pressure: str | None
    weight: str | None
    volume: str | None
    airflow: str | None
    speed: str | None

    def unit_for(self, quantity: Quantity) -> str | None:
        """Return the unit this account uses for a convertible quantity."""
        base = "temperature" if quantity == "temperature_difference" else quantity
        return {
            "temperature": self.temperature,
            "pressure": self.pressure,
            "weight": self.weight,
            "volume": self.volume,
            "airflow": self.airflow,
            "speed": self.speed,
        }.get(base)

    def describe(self) -> str:
        """Return the settings as ``quantity=unit`` pairs for logs."""
        return (
            f"temperature={self.temperature} pressure={self.pressure} weight={self.weight} "
            f"volume={self.volume} airflow={self.airflow} speed={self.speed}"
        )

    @classmethod
    def from_converter_settings(cls, settings: Mapping[str, object]) -> UnitSettings:
        """Build from ``UnitConverterSettings`` (``TemperatureUnit``, ``PressureUnit``, ... enum codes)."""

        def pick(field: str, table: dict[int, str], required: bool = True) -> str | None:
            code = settings.get(field)
            if code is None and not required:
                return None
            if not isinstance(code, int) or isinstance(code, bool) or code not in table:
                raise UnitError(
                    f"invalid UnitConverterSettings.{field} {code!r}: expected one of {sorted(table)}"
                )
            return table[code]

        return cls(
            temperature=pick("TemperatureUnit", _TEMPERATURE_SETTING),
            pressure=None if settings.get("PressureUnit") == 7 else pick("PressureUnit", _PRESSURE_SETTING),
            weight=pick("WeightUnit", _WEIGHT_SETTING),
            volume=pick("VolumeFluidUnit", _VOLUME_SETTING),
            airflow=pick("CapacityUnit", _CAPACITY_SETTING),
            speed=pick("SpeedUnit", _SPEED_SETTING, required=False),
        )

    @classmethod
    def from_unit_signs(cls, signs: Mapping[str, object]) -> UnitSettings:
        """Build from ``DicUintsSigns`` (``{"UT_Temperature": "C°", ...}``); an empty sign is no unit."""

        def pick(unit_type: str) -> str | None:
            sign = signs.get(unit_type)
            return unit_from_sign(sign) if isinstance(sign, str) and sign.strip() else None

        return cls(
            temperature=pick("UT_Temperature"),
            pressure=pick("UT_Pressure"),
            weight=pick("UT_Weight"),
            volume=pick("UT_Volume"),
            airflow=pick("UT_Capacity"),
            speed=pick("UT_WindSpeed"),
        )

    @classmethod
    def from_user_info(cls, user_info: Mapping[str, object]) -> UnitSettings:
        """Build from ``JsGlobals.UserInfo``: its enum settings, else its unit signs."""
        converter = user_info.get("UnitConverterSettings")
        if isinstance(converter, Mapping):
            return cls.from_converter_settings(converter)
        signs = user_info.get("DicUintsSigns")
        if isinstance(signs, Mapping):
            return cls.from_unit_signs(signs)
        raise UnitError("UserInfo has neither UnitConverterSettings nor DicUintsSigns: units unknown")


METRIC = UnitSettings(temperature="degC", pressure="Pa", weight="kg", volume="L", airflow="m3/h", speed="m/s")
"""The portal's metric settings (Celsius, Pa, kg, litres, m³/h, m/s)."""

NO_UNITS = UnitSettings(None, None, None, None, None, None)
"""Settings of an account whose units are not known: only values with a unit sign convert."""


def convert(value: float, quantity: Quantity, sign: str | None, settings: UnitSettings) -> float:
    """Convert a value of a quantity to its canonical unit, using the sign if given, else the settings."""
    if quantity not in CONVERTIBLE:
        if quantity == "percent" and sign and sign.strip() not in ("%", ""):
            raise UnitError(f"unknown unit sign {sign!r} for a percentage: expected %")
        return value

    name = unit_from_sign(sign) if sign and sign.strip() else settings.unit_for(quantity)
    if name is None:
        raise UnitError(f"no unit known for {quantity}: the payload has no sign and the account no setting")
    unit = UNITS[name]
    base = "temperature" if quantity == "temperature_difference" else quantity
    if unit.quantity != base:
        raise UnitError(f"unit {name} measures {unit.quantity}, but the value is a {quantity}")
    if quantity == "temperature_difference":
        return value * unit.factor
    return value * unit.factor + unit.offset
