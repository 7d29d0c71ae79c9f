"""Unit tests of unit conversion from the account's settings and the payload's unit signs."""

from __future__ import annotations

import pytest

from producers.exceptions import UnitError
from producers.units import METRIC, NO_UNITS, UnitSettings, convert, unit_from_sign

IMPERIAL = UnitSettings.from_converter_settings(
    {
        "TemperatureUnit": 1,
        "WeightUnit": 1,
        "PressureUnit": 1,
        "CapacityUnit": 1,
        "VolumeFluidUnit": 1,
        "SpeedUnit": 1,
    }
)


def test_fahrenheit_to_celsius() -> None:
    assert convert(85.46, "temperature", None, IMPERIAL) == pytest.approx(29.7, abs=1e-9)
    assert convert(32.0, "temperature", "F°", METRIC) == pytest.approx(0.0)
    assert convert(9.0, "temperature_difference", None, IMPERIAL) == pytest.approx(5.0)


def test_pressure_units_to_pascal() -> None:
    assert convert(0.1, "pressure", None, IMPERIAL) == pytest.approx(24.908891)
    assert convert(0.25, "pressure", "Milibar", METRIC) == pytest.approx(25.0)
    assert convert(2.5, "pressure", "MM.W.C", METRIC) == pytest.approx(24.516625)
    assert convert(0.25, "pressure", "CM.W.C", METRIC) == pytest.approx(24.516625)
    assert convert(24.0, "pressure", "Pa", IMPERIAL) == 24.0


def test_weight_volume_airflow_speed() -> None:
    assert convert(100.0, "weight", None, IMPERIAL) == pytest.approx(45.359237)
    assert convert(100.0, "volume", None, IMPERIAL) == pytest.approx(378.5411784)
    assert convert(10.0, "volume", "GL", METRIC) == pytest.approx(37.85411784)
    assert convert(68000.0, "airflow", None, IMPERIAL) == pytest.approx(115532.73, rel=1e-6)
    assert convert(10.0, "speed", None, IMPERIAL) == pytest.approx(4.4704)


def test_metric_is_identity() -> None:
    for quantity in ("temperature", "pressure", "weight", "volume", "airflow", "speed"):
        assert convert(12.5, quantity, None, METRIC) == 12.5  # type: ignore[arg-type]


def test_unknown_sign_raises() -> None:
    with pytest.raises(UnitError, match="unknown unit sign 'furlongs'"):
        convert(1.0, "pressure", "furlongs", METRIC)


def test_sign_of_other_quantity_raises() -> None:
    with pytest.raises(UnitError, match="measures weight"):
        convert(1.0, "pressure", "KG", METRIC)


def test_missing_unit_raises() -> None:
    with pytest.raises(UnitError, match="no unit known"):
        convert(1.0, "temperature", None, NO_UNITS)


def test_settings_from_capture_signs() -> None:
    signs = {
        "UT_Temperature": "C°",
        "UT_Weight": "KG",
        "UT_Pressure": "Pa",
        "UT_WindSpeed": "Meter/Sec",
        "UT_Capacity": "M3/H",
        "UT_Volume": "",
    }
    settings = UnitSettings.from_unit_signs(signs)
    assert settings.temperature == "degC"
    assert settings.pressure == "Pa"
    assert settings.volume is None
    assert unit_from_sign("IN.W.C") == "inWC"


def test_invalid_setting_code_raises() -> None:
    with pytest.raises(UnitError, match="TemperatureUnit"):
        UnitSettings.from_converter_settings(
            {
                "TemperatureUnit": 9,
                "WeightUnit": 0,
                "PressureUnit": 2,
                "CapacityUnit": 0,
                "VolumeFluidUnit": 0,
            }
        )
