"""The simulator's payloads have the captured portal's keys, tables and row shapes, and capture-like values.

Unit tests: payloads come from the in-process Portal (no HTTP) and are compared with the real captures.
"""

from __future__ import annotations

from typing import Any

import pytest
from sim_helpers import Stepper, capture, capture_like, general

from simulator.history import history_command


@pytest.fixture(scope="module")
def stepper() -> Stepper:
    return Stepper(capture_like())


def test_site_info_top_level_keys(stepper: Stepper) -> None:
    expected = capture("GetSiteControllersInfo.json")["reponseObj"]
    served = stepper.site()
    assert list(served) == list(expected)


def test_site_info_house_item_keys(stepper: Stepper) -> None:
    expected = capture("GetSiteControllersInfo.json")["reponseObj"]["FarmHouses"][0]
    served = stepper.site()["FarmHouses"]
    assert len(served) == 6
    for house in served:
        assert set(house) == set(expected)
        assert set(house["Data"]) == set(expected["Data"])
        assert set(house["Data"]["Temperature"]) == set(expected["Data"]["Temperature"])
        assert house["HouseControllerTypeInfo"] == expected["HouseControllerTypeInfo"]


def test_comparison_categories_match_capture(stepper: Stepper) -> None:
    expected = capture("GetSiteControllersInfo.json")["reponseObj"]["DicComparisonItems"]
    served = stepper.site()["DicComparisonItems"]
    assert list(served) == list(expected)
    for category, item in expected.items():
        assert set(served[category]) == set(item), category
        assert served[category].get("CaptionLanguageKey") == item.get("CaptionLanguageKey"), category


def test_comparison_values_are_strings(stepper: Stepper) -> None:
    for category, item in stepper.site()["DicComparisonItems"].items():
        for key, value in item.items():
            assert isinstance(value, str), (category, key)


def test_capture_like_values_at_day21(stepper: Stepper) -> None:
    items = stepper.site()["DicComparisonItems"]
    for house in range(1, 7):
        column = f"House{house}"
        assert items["Growth_Day"][column] == "21"
        assert items["HouseConnectionStatus"][column] == "1"
        assert items["Set_Temperature"][column] == "27.7"
        assert 28.0 <= float(items["Temperature_Current"][column]) <= 31.5
        assert 18 <= int(items["Static_Pressure"][column]) <= 32
        assert 45 <= int(items["Inside_Humidity"][column]) <= 80
        assert 12 <= int(items["Vent_Level"][column]) <= 20
        assert items["Vent_Mode"][column] == "1"
        assert items["Min_Vent_Level"][column] == "6"
        assert items["Max_Vent_Level"][column] == "25"
        assert items["Attic_Temperature"][column] == "-9999"
        assert items["Ammonia"][column] == "LangKey_ParametersOnly_3||$LangKey_Off||/||- - -"
        assert items["CO2"][column] == ""
        for probe in range(1, 10):
            assert 20.0 < float(items[f"Temperature_Sensor_{probe}"][column]) < 40.0
        for probe in range(10, 37):
            assert items[f"Temperature_Sensor_{probe}"][column] == ""
        assert "," in items["Current_Level_CFM"][column]


def test_controller_clocks_stay_within_minute(stepper: Stepper) -> None:
    times = [stepper.site()["DicComparisonItems"]["Time"][f"House{n}"] for n in range(1, 7)]
    minutes = [int(text[:2]) * 60 + int(text[3:]) for text in times]
    assert max(minutes) - min(minutes) <= 2
    assert all(12 * 60 + 10 <= value <= 12 * 60 + 20 for value in minutes)


def test_last_update_is_simulated_time(stepper: Stepper) -> None:
    assert stepper.site()["LastUpdateDT"] == "2026-04-24T17:15:00.0000000+00:00"


def test_command_zero_tables_match_capture(stepper: Stepper) -> None:
    expected = capture("RNBL_GetCommandData_cmd0_main.json")["reponseObj"]["dsData"]
    served = stepper.command(1)
    assert list(served) == list(expected)
    for table, rows in expected.items():
        assert len(served[table]) == len(rows), table
        for served_row, expected_row in zip(served[table], rows, strict=True):
            assert set(served_row) == set(expected_row), table


def test_command_zero_row_names_match(stepper: Stepper) -> None:
    expected = capture("RNBL_GetCommandData_cmd0_main.json")["reponseObj"]["dsData"]
    served = stepper.command(1)
    for table in ("General", "TempSensor", "Consumption", "AvgWeight", "FeedInv", "DigitalOut", "AnalogOut"):
        served_keys = [(row["ParameterKeyName"], row["ParameterUnitType"]) for row in served[table]]
        expected_keys = [(row["ParameterKeyName"], row["ParameterUnitType"]) for row in expected[table]]
        assert served_keys == expected_keys, table
    assert served["MDT"] == expected["MDT"]
    assert served["eRNBLResult"] == [{"Value": 20}]


def test_command_zero_raw_and_view(stepper: Stepper) -> None:
    served = stepper.command(1)
    assert general(served, "Set_Temperature") == "27.65"
    assert general(served, "Target_Pressure") == "24.9"
    assert served["General_View"][0]["Set_Temperature"] == "27.7"
    assert served["General_View"][0]["Target_Pressure"] == "24"
    assert served["General_View"][0]["Set_Temperature_Sign"] == "C°"
    assert general(served, "Siren") in ("True", "False")
    assert general(served, "Attic_Temperature", "TempSensor") == "- - -"
    assert general(served, "Temperature_Sensor_9", "TempSensor") != ""
    icons = {row["ParameterKeyName"]: row["Icon"] for row in served["TempSensor"]}
    assert [icons[f"Temperature_Sensor_{n}"] for n in range(1, 9)] == ["1"] * 8
    assert icons["Temperature_Sensor_9"] == ""
    digital = {row["ParameterKeyName"]: row["ParameterData"] for row in served["DigitalOut"]}
    assert digital["Heaters"] == "8"
    assert digital["Tunnel_Fans"] == "12"
    hours = general(served, "Last24HourTemperature_AVG", "HistoryTemp").split(";")
    assert len(hours) == 24


def _history_capture(name: str) -> dict[str, Any]:
    return dict(capture(name)["reponseObj"]["dsData"])


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (35, "RNBL_GetCommandData_cmd35_temperature_history.json"),
        (40, "RNBL_GetCommandData_cmd40_water_history.json"),
    ],
)
def test_history_shapes_match_capture(stepper: Stepper, command: int, name: str) -> None:
    expected = _history_capture(name)
    served = stepper.command(1, command)
    assert list(served) == list(expected)
    assert [row["FieldName"] for row in served["MDT"]] == [row["FieldName"] for row in expected["MDT"]]
    assert set(served["MDT"][0]) == set(expected["MDT"][0])
    assert set(served["GridTables"][0]) == set(expected["GridTables"][0])
    assert served["ColumnsModelFields"] == expected["ColumnsModelFields"]
    assert len(served["Data"]) == len(expected["Data"]) == 23
    for served_row, expected_row in zip(served["Data"], expected["Data"], strict=True):
        assert set(served_row) == set(expected_row)


def test_history_rows_from_preheat_day(stepper: Stepper) -> None:
    rows = stepper.command(1, 40)["Data"]
    assert [row["HistoryRecord_GrowthDay"] for row in rows] == [float(day) for day in range(-1, 22)]
    assert [row["RowNum"] for row in rows] == list(range(23))
    assert rows[0]["HistoryRecord_ChangeTotal"] == -9999.0
    assert rows[5]["HistoryRecord_ChangeWater_3"] == -9999.0
    full_day = float(rows[-2]["HistoryRecord_TotalDrink"])
    partial = float(rows[-1]["HistoryRecord_TotalDrink"])
    assert 1500.0 < full_day < 3000.0
    assert 0.0 < partial < full_day


def test_heater_history_runtimes(stepper: Stepper) -> None:
    rows = stepper.command(1, 43)["Data"]
    first = rows[0]
    assert first["HistoryRecord_Heaters_GrowthDay"] == -1.0
    for number in range(9, 17):
        assert first[f"HistoryRecord_Heaters_HeaterDevice_{number}"] == "00:00"
    assert first["HistoryRecord_Heaters_HeaterDevice_1"] == "00:00"
    assert first["HistoryRecord_Heaters_HeaterDevice_3"] != "00:00"
    for row in rows:
        for number in range(1, 17):
            hours, minutes = row[f"HistoryRecord_Heaters_HeaterDevice_{number}"].split(":")
            assert 0 <= int(hours) <= 24
            assert 0 <= int(minutes) < 60


def test_humidity_and_feed_history(stepper: Stepper) -> None:
    humidity = history_command(36, stepper.portal.model("farm-1").houses[0], stepper.portal.units["farm-1"])
    assert all(0.0 < row["QueueRecord_AverageValue"] <= 100.0 for row in humidity["Data"])
    feed = stepper.command(1, 41)["Data"]
    assert feed[0]["HistoryRecord_ChangeTotal"] == -9999.0
    assert float(feed[-2]["HistoryRecord_FeederTotal"]) > 500.0


def test_static_payload_keys_match_capture() -> None:
    from simulator.static import farm_registration, house_menu, js_globals

    farm = capture_like().farms[0]
    served_globals = js_globals(farm, "token", "http://127.0.0.1:8800/Host6_V1/", capture_like().start)
    expected_globals = capture("JsGlobals_GetJsGlobals.json")["reponseObj"]
    assert set(served_globals) <= set(expected_globals)
    assert set(served_globals["UserInfo"]) == set(expected_globals["UserInfo"])
    assert set(served_globals["UserInfo"]["UnitConverterSettings"]) == set(
        expected_globals["UserInfo"]["UnitConverterSettings"]
    )
    assert served_globals["UserInfo"]["DicUintsSigns"] == expected_globals["UserInfo"]["DicUintsSigns"]
    registration = capture("GetFarmRegistration.json")["reponseObj"]
    assert set(farm_registration(farm)) == set(registration)
    assert set(farm_registration(farm)["FarmRegistration"]) == set(registration["FarmRegistration"])
    menu = capture("GetHouseData.json")["reponseObj"]
    served_menu = house_menu()
    assert set(served_menu) == set(menu)
    assert set(served_menu["Menu"]) == set(menu["Menu"])
    history = next(node for node in served_menu["Menu"]["SubMenus"] if node["ID"] == 3)
    assert {node["ID"] for node in history["SubMenus"]} >= {35, 36, 40, 41, 43}
