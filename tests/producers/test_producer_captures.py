"""Parser tests against the real captured portal responses; expected values are read off the files.

Each test parses a capture as `farmstream parse` does and checks a hand-picked subset of fields of
every table kind: General, TempSensor, Consumption, DigitalOut, AnalogOut, the comparison items of
GetSiteControllersInfo, and history rows.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fake_rotemnet import CAPTURES

from producers.capture import CaptureResult, parse_capture
from producers.units import METRIC, UnitSettings
from schemas.events import DeadLetter, HouseStatus, Reading

CHICAGO = ZoneInfo("America/Chicago")
FETCHED_AT = datetime(2026, 4, 24, 17, 25, tzinfo=UTC)  # 12:25 in Chicago, two minutes after the capture


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    return document


def _parse(document: dict[str, Any], units: UnitSettings = METRIC) -> CaptureResult:
    return parse_capture(document, farm_id="farm-a", timezone=CHICAGO, fetched_at=FETCHED_AT, units=units)


def _readings(result: CaptureResult, house: int = 1) -> dict[tuple[str, int | None], Reading]:
    found: dict[tuple[str, int | None], Reading] = {}
    for event in result.events:
        if isinstance(event, Reading) and event.house_number == house:
            key = (event.parameter, event.growth_day if event.period == "day" else None)
            assert key not in found, f"duplicate reading {key}"
            found[key] = event
    return found


def _statuses(result: CaptureResult) -> dict[int, HouseStatus]:
    return {event.house_number: event for event in result.events if isinstance(event, HouseStatus)}


@pytest.fixture(scope="module")
def main_screen() -> CaptureResult:
    return _parse(_load("RNBL_GetCommandData_cmd0_main.json"))


def test_main_general_values(main_screen: CaptureResult) -> None:
    readings = _readings(main_screen)
    average = readings[("temperature.average", None)]
    assert average.value == 29.71
    assert average.target == 27.65
    assert average.unit == "degC"
    assert average.source_key == "General.Average_Temperature"
    assert average.source_command == "RNBL_GetCommandData/0"
    assert readings[("temperature.target", None)].value == 27.65
    pressure = readings[("static_pressure", None)]
    assert pressure.value == 24.0
    assert pressure.unit == "Pa"
    assert pressure.target == 24.9
    assert readings[("ventilation.airflow", None)].value == 115532.0
    assert readings[("ventilation.level", None)].value == 17.0
    assert readings[("humidity.inside", None)].value == 64.0
    assert readings[("flock.livability", None)].value == 100.0


def test_main_temp_sensor_values(main_screen: CaptureResult) -> None:
    readings = _readings(main_screen)
    assert readings[("temperature.sensor_9", None)].value == 27.33
    assert readings[("temperature.sensor_1", None)].value == 29.17
    assert readings[("temperature.tunnel", None)].value == 29.73
    assert readings[("wind.speed", None)].unit == "m/s"


def test_main_consumption_values(main_screen: CaptureResult) -> None:
    readings = _readings(main_screen)
    assert readings[("water.daily", None)].value == 989.0
    assert readings[("water.daily", None)].unit == "L"
    assert readings[("feed.daily", None)].value == 37.0


def test_main_digital_out_values(main_screen: CaptureResult) -> None:
    readings = _readings(main_screen)
    assert readings[("device.tunnel_fans.running", None)].value == 2.0
    assert readings[("device.tunnel_fans.installed", None)].value == 12.0
    assert readings[("device.heaters.running", None)].value == 0.0  # LangKey_Off
    assert readings[("device.heaters.installed", None)].value == 8.0
    assert readings[("device.exhaust_fans.running", None)].value == 1.0


def test_main_analog_out_values(main_screen: CaptureResult) -> None:
    readings = _readings(main_screen)
    assert readings[("inlet.position_1", None)].value == 38.0
    assert readings[("curtain.tunnel_1_position", None)].value == 0.0
    assert readings[("light.dimmer_1", None)].value == 35.0


def test_main_sentinels_give_no_reading(main_screen: CaptureResult) -> None:
    readings = _readings(main_screen)
    for parameter in ("temperature.attic", "co2", "ammonia", "humidity.sensor_2", "humidity.outside"):
        assert (parameter, None) not in readings
    status = _statuses(main_screen)[1]
    for key in ("TempSensor.Attic_Temperature", "General.CO2", "TempSensor.Ammonia", "General.Humidity_2"):
        assert key in status.sentinel_keys
    # Average_Weight "0" with Number_Of_Weights "0": no bird scale, so no weight.
    assert ("flock.average_weight", None) not in readings


def test_main_times_and_status(main_screen: CaptureResult) -> None:
    reading = _readings(main_screen)[("temperature.average", None)]
    assert reading.observed_at == datetime(2026, 4, 24, 12, 23, tzinfo=CHICAGO)
    assert reading.fetched_at == FETCHED_AT
    assert reading.controller_time == "12:23"
    assert reading.growth_day == 21
    status = _statuses(main_screen)[1]
    assert status.connection_status == "connected"
    assert status.siren_on is False
    assert status.house_mode == 0
    assert status.readings_published == len(_readings(main_screen))
    assert not [event for event in main_screen.events if isinstance(event, DeadLetter)]


def test_reparse_gives_same_ids(main_screen: CaptureResult) -> None:
    again = _parse(_load("RNBL_GetCommandData_cmd0_main.json"))
    assert [event.event_id for event in again.events] == [event.event_id for event in main_screen.events]


def test_site_info_comparison_values() -> None:
    result = _parse(_load("GetSiteControllersInfo.json"))
    statuses = _statuses(result)
    assert sorted(statuses) == [1, 2, 3, 4, 5, 6]
    assert {status.connection_status for status in statuses.values()} == {"connected"}
    assert statuses[6].controller_time == "12:19"
    assert statuses[1].growth_day == 21
    assert "DicComparisonItems.Attic_Temperature" in statuses[1].sentinel_keys

    house1 = _readings(result, 1)
    assert house1[("temperature.average", None)].value == 30.0
    assert house1[("temperature.average", None)].target == 27.7
    assert house1[("temperature.average", None)].source_key == "DicComparisonItems.Temperature_Current"
    assert house1[("temperature.average", None)].observed_at == datetime(
        2026, 4, 24, 10, 33, 19, 849676, tzinfo=UTC
    )
    assert ("temperature.attic", None) not in house1
    assert _readings(result, 4)[("inlet.position_1", None)].value == 38.0
    assert _readings(result, 4)[("water.daily", None)].value == 990.0
    assert _readings(result, 5)[("ventilation.airflow", None)].value == 98542.0  # "98,542"
    assert _readings(result, 5)[("device.exhaust_fans.running", None)].value == 0.0  # LangKey_Off
    assert _readings(result, 6)[("static_pressure", None)].value == 27.0
    assert _readings(result, 6)[("temperature.outside", None)].value == 32.6


def test_temperature_history_rows() -> None:
    result = _parse(_load("RNBL_GetCommandData_cmd35_temperature_history.json"))
    readings = _readings(result)
    assert readings[("history.temperature.min", 21)].value == 27.4
    assert readings[("history.temperature.average", 21)].value == 29.83
    assert readings[("history.temperature.max", 21)].value == 30.08
    assert readings[("history.temperature.min", -1)].value == 23.77
    assert readings[("history.temperature.average", 7)].value == 29.5
    day21 = readings[("history.temperature.max", 21)]
    assert day21.period == "day"
    assert day21.observed_at == datetime(2026, 4, 24, tzinfo=CHICAGO)
    assert readings[("history.temperature.max", 20)].observed_at == datetime(2026, 4, 23, tzinfo=CHICAGO)
    assert len(readings) == 23 * 3


def test_water_history_rows() -> None:
    result = _parse(_load("RNBL_GetCommandData_cmd40_water_history.json"))
    readings = _readings(result)
    assert readings[("history.water.total", 0)].value == 7.5
    assert readings[("history.water.total", 20)].value == 2024.0
    assert readings[("history.water.total", 21)].value == 998.4
    assert readings[("history.water.meter_1", 20)].value == 1041.3
    assert readings[("history.water.meter_2", 20)].value == 982.7
    assert readings[("history.water.total", 21)].unit == "L"
    assert not [event for event in result.events if isinstance(event, DeadLetter)]


@pytest.mark.parametrize(
    "name",
    [
        "GetComparisonDisplayFields.json",
        "GetFarmRegistration.json",
        "GetHouseData.json",
        "JsGlobals_GetJsGlobals.json",
    ],
)
def test_services_without_readings(name: str) -> None:
    result = _parse(_load(name))
    assert result.events == []


def test_js_globals_units_reported() -> None:
    result = _parse(_load("JsGlobals_GetJsGlobals.json"))
    assert result.units == METRIC


def _with_general_value(key: str, value: object, sign: str | None = None) -> dict[str, Any]:
    document = copy.deepcopy(_load("RNBL_GetCommandData_cmd0_main.json"))
    data_set = document["response"]["reponseObj"]["dsData"]
    for row in data_set["General"]:
        if row["ParameterKeyName"] == key:
            row["ParameterValue"] = value
    if sign is not None:
        data_set["General_View"][0][f"{key}_Sign"] = sign
    return document


def test_unparseable_value_dead_letters() -> None:
    result = _parse(_with_general_value("Average_Temperature", "abc"))
    letters = [event for event in result.events if isinstance(event, DeadLetter)]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.stage == "producer"
    assert letter.error_type == "InvalidValueError"
    assert letter.source_key == "General.Average_Temperature"
    assert letter.command == "RNBL_GetCommandData/0"
    assert letter.house_number == 1
    assert json.loads(letter.raw_payload)["ParameterValue"] == "abc"
    assert ("temperature.average", None) not in _readings(result)


def test_unknown_unit_sign_dead_letters() -> None:
    result = _parse(_with_general_value("Static_Pressure", "0.1", sign="furlongs"))
    letters = [event for event in result.events if isinstance(event, DeadLetter)]
    assert [letter.error_type for letter in letters] == ["UnitError"]
    assert ("static_pressure", None) not in _readings(result)


def test_out_of_range_flagged() -> None:
    result = _parse(_with_general_value("Average_Temperature", "99.9"))
    assert _readings(result)[("temperature.average", None)].quality == "out_of_range"
    assert _readings(result)[("temperature.outside", None)].quality == "good"


def test_imperial_account_converted() -> None:
    document = _with_general_value("Average_Temperature", "85.48", sign="F°")
    data_set = document["response"]["reponseObj"]["dsData"]
    view = data_set["General_View"][0]
    view["Static_Pressure_Sign"] = "IN.W.C"
    view["Current_Level_CFM_Sign"] = "CFM"
    for row in data_set["General"]:
        if row["ParameterKeyName"] == "Static_Pressure":
            row["ParameterValue"] = "0.096"
        if row["ParameterKeyName"] == "Current_Level_CFM":
            row["ParameterValue"] = "68,000"
    imperial = UnitSettings(
        temperature="degF", pressure="inWC", weight="lb", volume="gal", airflow="CFM", speed="mph"
    )
    readings = _readings(_parse(document, imperial))
    assert readings[("temperature.average", None)].value == pytest.approx(29.7111, abs=1e-3)
    # Set_Temperature keeps its own "C°" sign from the capture: a sign beats the account setting.
    assert readings[("temperature.target", None)].value == 27.65
    assert readings[("temperature.sensor_1", None)].value == pytest.approx((29.17 - 32) * 5 / 9)
    assert readings[("static_pressure", None)].value == pytest.approx(23.9125, abs=1e-3)
    assert readings[("ventilation.airflow", None)].value == pytest.approx(115532.73, rel=1e-6)
    assert readings[("water.daily", None)].value == pytest.approx(989 * 3.785411784)
    assert readings[("feed.daily", None)].value == 37.0  # Consumption_View signs it "KG"


def test_heater_runtime_history() -> None:
    rows = [
        {
            "HistoryRecord_Heaters_GrowthDay": 7.0,
            "HistoryRecord_Heaters_HeaterDevice_1": "10:55",
            "HistoryRecord_Heaters_HeaterDevice_9": "00:00",
            "RowNum": 0,
        },
        {
            "HistoryRecord_Heaters_GrowthDay": 8.0,
            "HistoryRecord_Heaters_HeaterDevice_1": "6:00",
            "HistoryRecord_Heaters_HeaterDevice_9": "oops",
            "RowNum": 1,
        },
    ]
    columns = [
        {"field": name, "UnitType": "UT_Time", "DataType": "DT_Time"} for name in rows[0] if "Device" in name
    ]
    document = {
        "request": {
            "url": "http://127.0.0.1/Host6_V1/Services/AllServices.svc/RNBL_GetCommandData",
            "body": {"prmGetCommandDataParams": {"CommandID": 43, "HouseNumber": "2"}},
        },
        "response": {
            "reponseObj": {
                "HouseNumber": 2,
                "MenuID": 43,
                "dsData": {
                    "eRNBLResult": [{"Value": 20}],
                    "MDT": [],
                    "GridTables": [{"ContainerID": "Data", "ColumnsDefinitions": columns, "Data": rows}],
                },
            },
            "isSucceed": True,
            "isAuthorize": True,
            "isInSession": True,
        },
    }
    result = _parse(document)
    readings = _readings(result, 2)
    assert readings[("history.heater_1.runtime", 7)].value == 10 * 3600 + 55 * 60
    assert readings[("history.heater_1.runtime", 7)].unit == "s"
    assert readings[("history.heater_9.runtime", 7)].value == 0.0
    assert readings[("history.heater_1.runtime", 8)].value == 6 * 3600
    assert ("history.heater_9.runtime", 8) not in readings
    letters = [event for event in result.events if isinstance(event, DeadLetter)]
    assert [letter.source_key for letter in letters] == ["Data.HistoryRecord_Heaters_HeaterDevice_9"]
