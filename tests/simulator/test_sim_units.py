"""An account in °F, inWC, lb, CFM and US gallons renders the same physics as its metric twin.

Unit tests: two one-farm configurations differ only in the account's units. Values served by the
in-process Portal are converted back and compared within the rounding of the rendered strings.
"""

from __future__ import annotations

import pytest
from sim_helpers import Stepper, general, one_farm

from simulator.config import UnitSettings
from simulator.units import KG_PER_LB, L_PER_GAL, M3H_PER_CFM, PA_PER_INWC, UnitRenderer, fixed, trim_number


@pytest.fixture(scope="module")
def twins() -> tuple[Stepper, Stepper]:
    metric = Stepper(one_farm(houses=3, growth_day=30))
    imperial = Stepper(one_farm(houses=3, growth_day=30, units=UnitSettings.imperial()))
    metric.advance(7)
    imperial.advance(7)
    return metric, imperial


def _fahrenheit_to_celsius(value: str) -> float:
    return (float(value) - 32.0) * 5.0 / 9.0


def test_imperial_signs_and_settings(twins: tuple[Stepper, Stepper]) -> None:
    _metric, imperial = twins
    view = imperial.command(1)["General_View"][0]
    assert view["Set_Temperature_Sign"] == "F°"
    assert view["Static_Pressure_Sign"] == "IN.W.C"
    assert view["Feed_Consumption_Sign"] == "LB"
    assert view["Current_Level_CFM_Sign"] == "CFM"
    consumption = imperial.command(1)["Consumption_View"][0]
    assert consumption["Daily_Water_Sign"] == "GL"
    settings = UnitRenderer(UnitSettings.imperial()).converter_settings()
    assert (settings["TemperatureUnit"], settings["PressureUnit"], settings["VolumeFluidUnit"]) == (1, 1, 1)


def test_temperatures_convert_back(twins: tuple[Stepper, Stepper]) -> None:
    metric, imperial = twins
    for house in (1, 2, 3):
        metric_data, imperial_data = metric.command(house), imperial.command(house)
        for key, table in (
            ("Average_Temperature", "General"),
            ("Set_Temperature", "General"),
            ("Temperature_Sensor_5", "TempSensor"),
            ("Temperature_Sensor_9", "TempSensor"),
        ):
            celsius = float(general(metric_data, key, table))
            assert _fahrenheit_to_celsius(general(imperial_data, key, table)) == pytest.approx(
                celsius, abs=0.02
            )
        comparison = _fahrenheit_to_celsius(imperial.comparison("Temperature_Current", house))
        assert comparison == pytest.approx(float(metric.comparison("Temperature_Current", house)), abs=0.1)


def test_pressure_and_airflow_convert_back(twins: tuple[Stepper, Stepper]) -> None:
    metric, imperial = twins
    for house in (1, 2, 3):
        metric_data, imperial_data = metric.command(house), imperial.command(house)
        inches = general(imperial_data, "Static_Pressure")
        assert len(inches.split(".")[-1]) <= 3
        assert float(inches) * PA_PER_INWC == pytest.approx(
            float(general(metric_data, "Static_Pressure")), abs=0.8
        )
        cfm = float(general(imperial_data, "Current_Level_CFM"))
        assert cfm * M3H_PER_CFM == pytest.approx(float(general(metric_data, "Current_Level_CFM")), abs=2.0)
        assert imperial.comparison("Vent_Level", house) == metric.comparison("Vent_Level", house)


def test_weights_and_volumes_convert_back(twins: tuple[Stepper, Stepper]) -> None:
    metric, imperial = twins
    for house in (1, 2, 3):
        metric_data, imperial_data = metric.command(house), imperial.command(house)
        pounds = float(general(imperial_data, "Daily_Feed", "Consumption"))
        assert pounds * KG_PER_LB == pytest.approx(
            float(general(metric_data, "Daily_Feed", "Consumption")), abs=1.0
        )
        gallons = float(general(imperial_data, "Daily_Water", "Consumption"))
        assert gallons * L_PER_GAL == pytest.approx(
            float(general(metric_data, "Daily_Water", "Consumption")), abs=3.0
        )
        weight = float(general(imperial_data, "Average_Weight", "AvgWeight"))
        assert weight * KG_PER_LB == pytest.approx(
            float(general(metric_data, "Average_Weight", "AvgWeight")), abs=0.002
        )


def test_history_in_account_units(twins: tuple[Stepper, Stepper]) -> None:
    metric, imperial = twins
    metric_rows, imperial_rows = metric.command(1, 35)["Data"], imperial.command(1, 35)["Data"]
    for metric_row, imperial_row in zip(metric_rows, imperial_rows, strict=True):
        celsius = (imperial_row["QueueRecord_AverageValue"] - 32.0) * 5.0 / 9.0
        assert celsius == pytest.approx(metric_row["QueueRecord_AverageValue"], abs=0.02)
    metric_water, imperial_water = metric.command(1, 40)["Data"], imperial.command(1, 40)["Data"]
    litres = float(imperial_water[-2]["HistoryRecord_TotalDrink"]) * L_PER_GAL
    assert litres == pytest.approx(float(metric_water[-2]["HistoryRecord_TotalDrink"]), rel=0.001)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(27.65, 1, "27.7"), (24.9, 2, "24.9"), (24.0, 2, "24"), (115532.4, 0, "115532"), (-0.004, 2, "0")],
)
def test_trim_number_cases(value: float, decimals: int, expected: str) -> None:
    assert trim_number(value, decimals) == expected


def test_fixed_uses_thousands_separators() -> None:
    assert fixed(115532.0, 0) == "115,532"
    assert fixed(0.1, 3) == "0.100"
    assert fixed(-0.01, 1) == "0.0"
