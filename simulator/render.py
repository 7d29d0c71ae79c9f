"""Render house readings as the portal's GetSiteControllersInfo and RNBL_GetCommandData(0) payloads.

Key names, row shapes, table order and value quirks follow the real portal: numbers as strings, raw
precision in ``General`` and rounded values in ``*_View``, comma thousands separators, ``LangKey_*``
words, ``"True"``/``"False"``, and ``""``/``"- - -"``/``"-9999"`` for probes that are not installed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from simulator import curves
from simulator.model import INSIDE_PROBES, OUTSIDE_PROBE, HouseModel, Reading
from simulator.units import UnitRenderer, fixed, trim_number

OFF = "LangKey_Off"
ON = "LangKey_On"
OPEN_PROBE = "- - -"
IGNORED_VALUE = "-9999"
AMMONIA_PREFIX = "LangKey_ParametersOnly_3||$LangKey_Off||/||"
CONTROLLER_TYPE_INFO = {
    "Type": 2,
    "Model": 2,
    "Mode": 3,
    "ControllerID": 1,
    "ControllerName": "cControl_PlatinumPro",
    "ControllerMemoryVersion": 0,
    "ControllerVersionMajor": 0,
    "ControllerVersionMinor": 0,
    "ControllerVersionRevision": 0,
    "MainScreenIndex": 0,
    "ClassName": None,
    "ControllerTypeStr": "PLATINUM_PLUS_BROILER_PRECISION",
}
DATA_CATEGORIES = (
    "AvgBirdsWeight",
    "Mortality",
    "Livability",
    "Temperature",
    "Humidity",
    "CO2",
    "DailyWater",
    "DailyFeed",
    "DailyFCR",
    "Pressure",
    "VentLevel",
    "Heaters",
    "Silo",
    "Cycle",
)


def iso_instant(instant: datetime) -> str:
    """Format an instant like the portal's LastUpdateDT: UTC, seven fraction digits, explicit offset."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond:06d}0+00:00"


def _empty_data_entry() -> dict[str, Any]:
    return {
        "CurrentNumericValue": 0.0,
        "CurrentValue": None,
        "TargetValue": None,
        "TargetNumericValue": 0.0,
        "LowAlarmValue": None,
        "LowAlarmNumericValue": 0.0,
        "HighAlarmValue": None,
        "HighAlarmNumericValue": 0.0,
        "UnitsStr": None,
        "MaxNumericValue": 0.0,
        "MaxValue": None,
        "VentLevel_IsTunnelMode": False,
        "VentLevelCFMNumericValue": 0.0,
        "VentLevelCFM": None,
        "VentLevelPercent": 0.0,
        "VentCycle": None,
        "HeatersTotal": None,
        "IsLowAlarmActive": False,
        "IsHighAlarmActive": False,
        "OutOfLimitValue": 0.0,
        "DicSubData": {},
    }


def _count_or_off(count: int) -> str:
    return str(count) if count else OFF


def _percent_of_max(airflow_m3h: float) -> int:
    return math.trunc(100.0 * airflow_m3h / curves.MAX_AIRFLOW_M3H)


def _livability(reading: Reading) -> float:
    return 100.0 * reading.birds / reading.birds_placed if reading.birds_placed else 100.0


def _probe_comparison(reading: Reading, number: int, units: UnitRenderer) -> str:
    value = reading.probes[number - 1]
    return IGNORED_VALUE if value is None else units.view_temperature(value)


def _ammonia(reading: Reading) -> str:
    if reading.ammonia_ppm is None:
        return AMMONIA_PREFIX + OPEN_PROBE
    return AMMONIA_PREFIX + str(round(reading.ammonia_ppm))


ComparisonGetter = Callable[[Reading, UnitRenderer], str]


def _blank(_reading: Reading, _units: UnitRenderer) -> str:
    return ""


def _constant(text: str) -> ComparisonGetter:
    return lambda _reading, _units: text


def _comparison_table() -> list[tuple[str, str, ComparisonGetter]]:
    """Return (category, caption key, value) for each DicComparisonItems entry, in portal order."""
    screen = "AP_Comparison_Screen_"
    table: list[tuple[str, str, ComparisonGetter]] = [
        ("AlarmsCount", "AlarmsCount", lambda r, u: str(len(r.alarms)) if r.alarms else ""),
        ("HouseConnectionStatus", screen + "House_Connection_Status", lambda r, u: str(r.connection_status)),
        ("Alarm", screen + "Siren", lambda r, u: "True" if r.alarms else "False"),
        ("Time", screen + "Time", lambda r, u: r.controller_time),
        ("Growth_Day", screen + "Growth_Day", lambda r, u: str(r.growth_day)),
        ("Temperature_Current", screen + "Average_Temperature", lambda r, u: u.view_temperature(r.average_c)),
        ("TemperatureOffset", screen + "TemperatureOffset", lambda r, u: fixed(0.0, 1)),
        (
            "Static_Pressure",
            screen + "Static_Pressure",
            lambda r, u: u.comparison_pressure(r.static_pressure_pa),
        ),
        ("CO2", screen + "CO2", lambda r, u: "" if r.co2_ppm is None else fixed(r.co2_ppm, 0)),
        ("Inside_Humidity", screen + "Inside_Humidity", lambda r, u: str(round(r.humidity))),
        ("Tunnel_Temperature", screen + "Tunnel_Temperature", lambda r, u: u.view_temperature(r.tunnel_c)),
        (
            "Outside_Temperature",
            screen + "Outside_Temperature",
            lambda r, u: _probe_comparison(r, OUTSIDE_PROBE, u),
        ),
        ("Vent_Mode", screen + "Vent_Mode", lambda r, u: str(r.vent_mode)),
        ("HouseMode", screen + "House_Mode", _constant("0")),
        ("Vent_Level", screen + "Vent_Level", lambda r, u: str(r.vent_level)),
        ("Current_Level_CFM", screen + "Current_Level_CFM", lambda r, u: fixed(u.capacity(r.airflow_m3h), 0)),
        ("Max_Vent_Level", screen + "Max_Vent_Level", _constant(str(curves.MAX_VENT_LEVEL))),
        ("Min_Vent_Level", screen + "Min_Vent_Level", lambda r, u: str(r.min_vent_level)),
        ("Vent_Cycle", screen + "CycleStatus", lambda r, u: ON if r.cycling else OFF),
        ("CycleTime", screen + "CycleTime", _constant("0")),
        ("Set_Temperature", screen + "Set_Temperature", lambda r, u: u.view_temperature(r.target_c)),
        (
            "Target_Pressure",
            screen + "Target_Pressure",
            lambda r, u: u.comparison_pressure(r.target_pressure_pa),
        ),
        ("Humidity_Treatment", screen + "Humidity_Treatment", _constant(OFF)),
        ("CO2_Treatment", screen + "CO2_Treatment", _constant(OFF)),
        ("Feed_Daily", screen + "Daily_Feed", lambda r, u: fixed(u.weight(r.feed_today_kg), 0)),
        ("Water_Daily", screen + "Daily_Water", lambda r, u: fixed(u.volume(r.water_today_l), 0)),
        ("Water_Per_Hour", screen + "Water_Per_Hour", _blank),
        ("Average_Weight", screen + "Average_Weight", lambda r, u: fixed(u.weight(r.average_weight_kg), 3)),
        ("Number_Of_Weights", screen + "Number_Of_Weights", lambda r, u: str(_weighings(r))),
        ("CycleNext", screen + "CycleNext", _constant("LangKey_NextOff")),
        ("Temperature_Curve", screen + "Temperature_Curve", _constant(ON)),
        ("Cool_Pad_Flush", screen + "Cool_Pad_Flush", _constant(OFF)),
        ("Nipple_Flush", screen + "Nipple_Flush", _constant(OFF)),
        ("Vent_Level_Percents", screen + "CFM_Percentage", lambda r, u: str(_percent_of_max(r.airflow_m3h))),
        (
            "Current_Birds_Count_In_House",
            screen + "Current_Birds_Count_In_House",
            lambda r, u: fixed(r.birds, 0),
        ),
        ("Livablity_Percents", screen + "Birds_Livability", lambda r, u: trim_number(_livability(r), 2)),
        ("Feed_Consumption", screen + "Feed_Consumption", lambda r, u: fixed(u.weight(r.feed_today_kg), 0)),
        ("FCR_Current", screen + "Feed_Consumption_Rate", _constant("LangKey_NA")),
    ]
    for number in range(1, 37):
        caption = f"{screen}Temperature_Sensor_X||{number}"
        if number <= OUTSIDE_PROBE:
            getter: ComparisonGetter = (lambda n: lambda r, u: _probe_comparison(r, n, u))(number)
        else:
            getter = _blank
        table.append((f"Temperature_Sensor_{number}", caption, getter))
    table += [
        ("Attic_Temperature", screen + "Attic_Temperature", _constant(IGNORED_VALUE)),
        ("Feed_Area_Temperature", screen + "Feed_Area_Temperature", _blank),
        ("Egg_Room_Temperature", screen + "Egg_Room_Temperature", _blank),
        ("Ammonia", screen + "Ammonia", lambda r, u: _ammonia(r)),
        (
            "Wind_Chill_Temperature",
            screen + "Wind_Chill_Temperature",
            lambda r, u: u.view_temperature(r.wind_chill_c),
        ),
        ("Humidity_Current", screen + "Humidity_1", lambda r, u: str(round(r.humidity))),
        ("Humidity_2", screen + "Humidity_2", _blank),
        ("Outside_Humidity", screen + "Outside_Humidity", _blank),
        ("Egg_Room_Humidity", screen + "Egg_Room_Humidity", _blank),
        ("Emergency_Temperature_1", screen + "Emergency_Temperature_X||1", _blank),
        ("Emergency_Temperature_2", screen + "Emergency_Temperature_X||2", _blank),
        ("Circuit_Breaker_Temp", screen + "Circuit_Breaker_Temp", _blank),
    ]
    table += [(f"Silo_{n}", f"{screen}Silo_X||{n}", _constant("0")) for n in range(1, 5)]
    table += [
        ("Wind_Speed", screen + "Wind_Speed", _constant("0.0")),
        ("Wind_Direction", screen + "Wind_Direction", _constant("0")),
        ("WodPressure", screen + "WodPressure", _constant("0")),
        ("Heaters", screen + "Heaters", lambda r, u: _count_or_off(len(r.heaters_on))),
        ("Heaters_High", screen + "Heaters_High", _blank),
        ("Radiant_Low", screen + "Radiant_Low", _blank),
        ("Radiant_High", screen + "Radiant_High", _blank),
        ("Tunnel_Fans", screen + "Tunnel_Fans", lambda r, u: _count_or_off(r.tunnel_fans_on)),
        ("Exh_Fans", screen + "Exh_Fans", lambda r, u: _count_or_off(r.exhaust_fans_on)),
        ("Stir_Fans", screen + "Stir_Fans", lambda r, u: _count_or_off(r.stir_fans_on)),
        ("Cooling", screen + "Cooling", _blank),
        ("Cooling_Pad", screen + "Cooling_Pad", lambda r, u: _count_or_off(int(r.cool_pad_on))),
        ("Foggers", screen + "Foggers", _blank),
    ]
    table += [(f"Nest_{n}", f"{screen}Nest_X||{n}", _blank) for n in range(1, 5)]
    table.append(("Attic", screen + "Attic", _blank))
    table.append(
        ("Air_Vent_1_Position", screen + "Air_Vent_X_Position||1", lambda r, u: str(round(r.inlet_pct)))
    )
    table += [(f"Air_Vent_{n}_Position", f"{screen}Air_Vent_X_Position||{n}", _blank) for n in range(2, 5)]
    table.append(
        (
            "Tunnel_Curtain_1_Position",
            screen + "Tunnel_Curtain_X_Position||1",
            lambda r, u: str(round(r.curtain_pct)),
        )
    )
    table += [
        (f"Tunnel_Curtain_{n}_Position", f"{screen}Tunnel_Curtain_X_Position||{n}", _blank)
        for n in range(2, 7)
    ]
    table += [(f"Curtain_{n}_Position", f"{screen}Curtain_X_Position||{n}", _blank) for n in range(1, 5)]
    table += [(f"ZoneInlet{n}", f"{screen}ZoneInletX||{n}", _blank) for n in range(1, 5)]
    table.append(("Light", screen + "Light", _blank))
    table.append(("Light1", screen + "LightX||1", lambda r, u: str(r.light_pct)))
    table += [(f"Light{n}", f"{screen}LightX||{n}", _blank) for n in range(2, 11)]
    table += [
        ("Water", screen + "Water", _blank),
        ("Feeding", screen + "Feeding", lambda r, u: "2" if r.feeding else OFF),
        ("Auger", screen + "Auger", lambda r, u: "2" if r.feeding else OFF),
    ]
    table += [(f"Extra_System_{n}", f"{screen}Extra_System_X||{n}", _blank) for n in range(1, 5)]
    for name in (
        "Water_Main",
        "Water_Bypass",
        "Water_Line",
        "Water_On_Demand",
        "Valve",
        "Egg_Room_Heater",
        "Egg_Room_Fans",
        "Egg_Room_Cool",
    ):
        table.append((name, screen + name, _blank))
    return table


COMPARISON_TABLE = _comparison_table()


def _weighings(reading: Reading) -> int:
    return max(0, reading.growth_day) * 12


def site_controllers_info(
    houses: list[HouseModel], instant: datetime, units: UnitRenderer, placeholders: bool = False
) -> dict[str, Any]:
    """Build GetSiteControllersInfo's reponseObj for all houses of a farm at one simulated instant.

    With ``placeholders`` the constant blocks are marker strings that ``expand_placeholders`` replaces
    in the serialized JSON, which saves serializing them on every step.
    """
    farm_houses = []
    alarms: list[dict[str, Any]] = []
    readings: list[Reading] = []
    for house in houses:
        reading = house.reading
        assert reading is not None, "a house is rendered only after its first step"
        readings.append(reading)
        farm_houses.append(
            {
                "HouseNumber": house.number,
                "RoomNumber": 0,
                "HouseName": f"House {house.number}",
                "Rooms": None,
                "ControllerVersion": None,
                "GrowthDay": 0,
                "ControllerDate": None,
                "ConnectionStatus": reading.connection_status,
                "Data": HOUSE_DATA_MARKER if placeholders else _empty_house_data(),
                "HouseControllerTypeInfo": CONTROLLER_MARKER if placeholders else dict(CONTROLLER_TYPE_INFO),
                "HouseMode": 0,
                "IsPigsHouse": False,
                "FieldName": f"House{house.number}",
            }
        )
        if reading.connected:
            for code, message in reading.alarms:
                alarms.append(
                    {
                        "HouseNumber": house.number,
                        "RoomNumber": 0,
                        "AlarmCode": code,
                        "AlarmMessage": message,
                        "AlarmDT": iso_instant(reading.instant),
                        "IsActive": True,
                    }
                )
        else:
            alarms.append(
                {
                    "HouseNumber": house.number,
                    "RoomNumber": 0,
                    "AlarmCode": 173,
                    "AlarmMessage": f"Lost Com To Controller {house.number}",
                    "AlarmDT": iso_instant(reading.instant),
                    "IsActive": True,
                }
            )
    comparison: dict[str, Any] = {}
    for category, caption, getter in COMPARISON_TABLE:
        item: dict[str, Any] = {"CategoryName": category, "CaptionLanguageKey": caption}
        for house, reading in zip(houses, readings, strict=True):
            if reading.connected:
                value = getter(reading, units)
            elif category == "HouseConnectionStatus":
                value = str(reading.connection_status)
            elif category == "Time":
                value = reading.controller_time
            else:
                value = ""
            item[f"House{house.number}"] = value
            item[f"House{house.number}_Data"] = ""
        comparison[category] = item
    comparison["HouseType"] = {f"House{house.number}": "PLATINUM" for house in houses}
    return {
        "FarmHouses": farm_houses,
        "HousesAlarms": alarms,
        "LastUpdateDT": iso_instant(instant),
        "DicDashboardItems": {},
        "DicComparisonItems": comparison,
        "IsDataChanged": True,
        "IsAlarmsDataChanged": bool(alarms),
        "IsFirstDataLoad": False,
    }


# -- RNBL_GetCommandData, CommandID 0 ----------------------------------------------------------------

_MDT_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("Growth_Day", "DT_Number", "UT_Number", "N0"),
    ("Time", "DT_Time", "UT_Time", "N0"),
    ("Temperature_Curve", "DT_Number", "UT_Number", "N0"),
    ("House_Mode", "DT_Number", "UT_Number", "N0"),
    ("Siren", "DT_Number", "UT_Number", "N0"),
    ("Vent_Mode", "DT_Number", "UT_Number", "N0"),
    ("Vent_Level", "DT_Number", "UT_Number", "N0"),
    ("Set_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("TemperatureOffset", "DT_Number", "UT_Temperature_Diff", "N1"),
    ("Target_Pressure", "DT_Number", "UT_Pressure", "N0"),
    ("Humidity_Treatment", "DT_Number", "UT_Number", "N0"),
    ("Humidity_Treatment_Percents", "DT_Number", "UT_Percent", "N0"),
    ("CO2_Treatment", "DT_Number", "UT_Number", "N0"),
    ("Cool_Pad_Flush", "DT_Number", "UT_Number", "N0"),
    ("Nipple_Flush", "DT_Number", "UT_Number", "N0"),
    ("CycleStatus", "DT_Number", "UT_Number", "N0"),
    ("CycleTime", "DT_Number", "UT_Number", "N0"),
    ("CycleNext", "DT_Number", "UT_Number", "N0"),
    ("Feed_Consumption", "DT_Number", "UT_Weight", "N0"),
    ("Feed_Consumption_Rate", "DT_Float", "UT_Number", "N1"),
    ("Current_Level_CFM", "DT_Number", "UT_Capacity", "N0"),
    ("CFM_Percentage", "DT_Number", "UT_Percent", "N0"),
    ("Current_Birds_Count_In_House", "DT_Number", "UT_Number", "N0"),
    ("Birds_Livability", "DT_Number", "UT_Percent", "N2"),
    ("Average_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Temperature_Current", "DT_Number", "UT_Temperature", "N1"),
    ("Outside_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Inside_Humidity", "DT_Number", "UT_Percent", "N0"),
    ("Static_Pressure", "DT_Number", "UT_Pressure", "N0"),
    ("Pressure", "DT_Number", "UT_Pressure", "N0"),
    ("Average_Weight", "DT_Number", "UT_Weight", "N3"),
    ("Weight", "DT_Number", "UT_Weight", "N0"),
    ("Animal_Weight", "DT_Number", "UT_Weight", "N0"),
    ("Number_Of_Weights", "DT_Number", "UT_Number", "N0"),
    ("Daily_Water", "DT_Number", "UT_Volume", "N0"),
    ("Daily_WaterFeedRate", "DT_Number", "UT_WaterFeedRate", "N1"),
    ("Daily_Feed", "DT_Number", "UT_Weight", "N0"),
    ("Feed_Daily", "DT_Number", "UT_Weight", "N0"),
    ("Tunnel_Fans", "DT_Number", "UT_Number", "N0"),
    ("Exh_Fans", "DT_Number", "UT_Number", "N0"),
    ("Stir_Fans", "DT_Number", "UT_Number", "N0"),
    ("Silo_1", "DT_Number", "UT_Weight", "N0"),
    ("Silo_2", "DT_Number", "UT_Weight", "N0"),
    ("Silo_3", "DT_Number", "UT_Weight", "N0"),
    ("Silo_4", "DT_Number", "UT_Weight", "N0"),
    ("Rsw2Silo", "DT_Number", "UT_Weight", "N0"),
    ("Tunnel_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Wind_Chill_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Attic_Temperature", "DT_Number", "UT_Temperature", "N1"),
    *[(f"Temperature_Sensor_{n}", "DT_Number", "UT_Temperature", "N1") for n in range(37)],
    ("Emergency_Temperature_1", "DT_Number", "UT_Temperature", "N1"),
    ("Emergency_Temperature_2", "DT_Number", "UT_Temperature", "N1"),
    ("Feed_Area_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Egg_Room_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Work_Room_Temperature", "DT_Number", "UT_Temperature", "N1"),
    ("Ammonia", "DT_Number", "UT_Temperature", "N1"),
    ("WodPressure", "DT_Float", "UT_Pressure", "N0"),
    ("WOD_Pressue", "DT_Float", "UT_Pressure", "N0"),
    ("Wind_Speed", "DT_Number", "UT_WindSpeed", "N1"),
    ("Scale_1_Weight", "DT_Number", "UT_Weight", "N0"),
    ("Scale_2_Weight", "DT_Number", "UT_Weight", "N0"),
    ("Female_Weight", "DT_Number", "UT_Weight", "N0"),
    ("Male_Weight", "DT_Number", "UT_Weight", "N0"),
)
MDT_ROWS = [
    {"FieldName": name, "DataType": data_type, "UnitType": unit_type, "DisplayFormat": display}
    for name, data_type, unit_type, display in _MDT_FIELDS
]

_GENERAL_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Alarm", "Alarm", "UT_Number"),
    ("Growth_Day", "Growth Day", "UT_Number"),
    ("Time", "Time", "UT_Time"),
    ("Temperature_Curve", "Temperature Curve On/Off", "UT_Number"),
    ("House_Mode", "House Mode", "UT_Number"),
    ("Siren", "Siren", "UT_Number"),
    ("IsFeeding", "Feeding", "UT_Number"),
    ("Vent_Mode", "Vent Mode", "UT_Number"),
    ("Vent_Level", "Vent Level", "UT_Number"),
    ("Min_Vent_Level", "Min", "UT_Number"),
    ("Max_Vent_Level", "Max", "UT_Number"),
    ("Set_Temperature", "Set Temperature", "UT_Temperature"),
    ("TemperatureOffset", "Offset", "UT_Temperature"),
    ("Target_Pressure", "Target Pressure", "UT_Pressure"),
    ("Humidity_Treatment", "Humidity Treatment", "UT_Number"),
    ("CO2_Treatment", "CO2 Treatment", "UT_Number"),
    ("Cool_Pad_Flush", "Cool Pad Flush", "UT_Number"),
    ("Nipple_Flush", "Nipple Flush", "UT_Number"),
    ("Cycle", "Cycle", "UT_Number"),
    ("CycleStatus", "Cycle Status", "UT_Number"),
    ("CycleTime", "Cycle Time", "UT_Number"),
    ("CycleNext", "Cycle Next", "UT_Number"),
    ("Feed_Consumption", "Daily Consumption", "UT_Weight"),
    ("Feed_Consumption_Rate", "FCR", "UT_Number"),
    ("Current_Level_CFM", "CFM", "UT_Capacity"),
    ("CFM_Percentage", "% CFM", "UT_Percent"),
    ("Current_Birds_Count_In_House", "Birds", "UT_Number"),
    ("Birds_Livability", "Livability", "UT_Pressure"),
    ("House_Connection_Status", "House Connection Status", "UT_Number"),
    ("Average_Temperature", "Average Temperature", "UT_Temperature"),
    ("Outside_Temperature", "Outside Temperature", "UT_Temperature"),
    ("Inside_Humidity", "Inside Humidity", "UT_Percent"),
    ("Humidity_1", "Humidity Sensor 1", "UT_Percent"),
    ("Humidity_2", "Humidity Sensor 2", "UT_Percent"),
    ("Outside_Humidity", "Outside Humidity", "UT_Percent"),
    ("CO2", "CO2", "UT_Number"),
    ("Static_Pressure", "Static Pressure", "UT_Pressure"),
    ("TotalDailyMaleMortality", "Total Daily Male Mortality", "UT_Number"),
    ("TotalDailyFemaleMortality", "Total Daily Female Mortality", "UT_Number"),
    ("TotalDailyMaleCult", "Total Daily Male Cult", "UT_Number"),
    ("TotalDailyFemaleCult", "Total Daily Female Cult", "UT_Number"),
    ("TotalDailyMaleMoved", "Total Daily Male Moved", "UT_Number"),
    ("TotalDailyFemaleMoved", "Total Daily Female Moved", "UT_Number"),
)
_MORTALITY_KEYS = tuple(key for key, _name, _unit in _GENERAL_ROWS if key.startswith("TotalDaily"))
_VIEW_SIGNED = {
    "Set_Temperature": "UT_Temperature",
    "Target_Pressure": "UT_Pressure",
    "Feed_Consumption": "UT_Weight",
    "Current_Level_CFM": "UT_Capacity",
    "CFM_Percentage": "UT_Percent",
    "Birds_Livability": "UT_Percent",
    "Average_Temperature": "UT_Temperature",
    "Outside_Temperature": "UT_Temperature",
    "Inside_Humidity": "UT_Percent",
    "Static_Pressure": "UT_Pressure",
}


def _row(
    key: str, display: str, value: Any, unit_type: str, data: Any = None, room: Any = None
) -> dict[str, Any]:
    return {
        "Value": None,
        "ParameterRoomNumber": room,
        "ParameterKeyName": key,
        "ParameterDisplayName": display,
        "ParameterValue": value,
        "ParameterData": data,
        "ParameterTitle": None,
        "ParameterUnitType": unit_type,
    }


def _general_values(reading: Reading, units: UnitRenderer) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the raw ``General`` values and their ``General_View`` strings."""
    livability = _livability(reading)
    feed = units.weight(reading.feed_today_kg)
    capacity = units.capacity(reading.airflow_m3h)
    humidity = str(round(reading.humidity))
    co2 = "" if reading.co2_ppm is None else str(round(reading.co2_ppm))
    siren = "True" if reading.alarms else "False"
    feeding = "True" if reading.feeding else "False"
    cycle = ON if reading.cycling else OFF
    raw: dict[str, Any] = {
        "Alarm": None,
        "Growth_Day": str(reading.growth_day),
        "Time": reading.controller_time,
        "Temperature_Curve": ON,
        "House_Mode": "0",
        "Siren": siren,
        "IsFeeding": feeding,
        "Vent_Mode": str(reading.vent_mode),
        "Vent_Level": str(reading.vent_level),
        "Min_Vent_Level": str(reading.min_vent_level),
        "Max_Vent_Level": str(curves.MAX_VENT_LEVEL),
        "Set_Temperature": units.raw_temperature(reading.target_c),
        "TemperatureOffset": "0",
        "Target_Pressure": units.raw_pressure(reading.target_pressure_pa, decimals=1),
        "Humidity_Treatment": OFF,
        "CO2_Treatment": OFF,
        "Cool_Pad_Flush": OFF,
        "Nipple_Flush": OFF,
        "Cycle": cycle,
        "CycleStatus": cycle,
        "CycleTime": "0",
        "CycleNext": "LangKey_NextOff",
        "Feed_Consumption": str(round(feed)),
        "Feed_Consumption_Rate": "LangKey_NA",
        "Current_Level_CFM": str(round(capacity)),
        "CFM_Percentage": str(_percent_of_max(reading.airflow_m3h)),
        "Current_Birds_Count_In_House": str(reading.birds),
        "Birds_Livability": trim_number(livability, 2),
        "House_Connection_Status": str(reading.connection_status),
        "Average_Temperature": units.raw_temperature(reading.average_c),
        "Outside_Temperature": OPEN_PROBE
        if reading.outside_c is None
        else units.raw_temperature(reading.outside_c),
        "Inside_Humidity": humidity,
        "Humidity_1": humidity,
        "Humidity_2": "",
        "Outside_Humidity": "",
        "CO2": co2,
        "Static_Pressure": units.raw_pressure(reading.static_pressure_pa),
        **{key: None for key in _MORTALITY_KEYS},
    }
    view: dict[str, str] = {
        "Alarm": "",
        "Growth_Day": raw["Growth_Day"],
        "Time": reading.controller_time,
        "Temperature_Curve": "On",
        "House_Mode": "0",
        "Siren": siren,
        "IsFeeding": feeding,
        "Vent_Mode": raw["Vent_Mode"],
        "Vent_Level": raw["Vent_Level"],
        "Min_Vent_Level": raw["Min_Vent_Level"],
        "Max_Vent_Level": raw["Max_Vent_Level"],
        "Set_Temperature": units.view_temperature(reading.target_c),
        "TemperatureOffset": fixed(0.0, 1),
        "Target_Pressure": units.view_pressure(reading.target_pressure_pa),
        "Humidity_Treatment": "Off",
        "CO2_Treatment": "Off",
        "Cool_Pad_Flush": "Off",
        "Nipple_Flush": "Off",
        "Cycle": "On" if reading.cycling else "Off",
        "CycleStatus": "On" if reading.cycling else "Off",
        "CycleTime": "0",
        "CycleNext": "On In",
        "Feed_Consumption": fixed(feed, 0),
        "Feed_Consumption_Rate": "N/A",
        "Current_Level_CFM": fixed(capacity, 0),
        "CFM_Percentage": raw["CFM_Percentage"],
        "Current_Birds_Count_In_House": fixed(reading.birds, 0),
        "Birds_Livability": fixed(livability, 2),
        "House_Connection_Status": raw["House_Connection_Status"],
        "Average_Temperature": units.view_temperature(reading.average_c),
        "Outside_Temperature": OPEN_PROBE
        if reading.outside_c is None
        else units.view_temperature(reading.outside_c),
        "Inside_Humidity": humidity,
        "Humidity_1": humidity,
        "Humidity_2": "",
        "Outside_Humidity": "",
        "CO2": "" if reading.co2_ppm is None else fixed(reading.co2_ppm, 0),
        "Static_Pressure": units.view_pressure(reading.static_pressure_pa),
        **{key: "" for key in _MORTALITY_KEYS},
    }
    return raw, view


def _with_signs(values: dict[str, str], signs: dict[str, str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in values.items():
        if key in _VIEW_SIGNED:
            result[f"{key}_Sign"] = signs[_VIEW_SIGNED[key]]
        result[key] = value
    return result


def _temp_sensor_rows(reading: Reading, units: UnitRenderer, view: bool) -> list[dict[str, Any]]:
    def temperature(value: float | None) -> str:
        if value is None:
            return OPEN_PROBE
        return units.view_temperature(value) if view else units.raw_temperature(value)

    def sensor_row(key: str, display: str, value: Any, unit_type: str, icon: Any) -> dict[str, Any]:
        row = _row(key, display, value, unit_type, room="0")
        row["Icon"] = icon
        row["UnitOfMeasurement"] = None
        return row

    rows = [
        sensor_row("Tunnel_Temperature", "Tunnel", temperature(reading.tunnel_c), "UT_Temperature", None),
        sensor_row(
            "Wind_Chill_Temperature", "W.Chill", temperature(reading.wind_chill_c), "UT_Temperature", None
        ),
        sensor_row("Attic_Temperature", "Attic", OPEN_PROBE, "UT_Temperature", None),
    ]
    for index in range(INSIDE_PROBES + 1):
        number = index + 1
        icon = "1" if number <= INSIDE_PROBES else ""
        rows.append(
            sensor_row(
                f"Temperature_Sensor_{number}",
                f"Temp. {number}",
                temperature(reading.probes[index]),
                "UT_Temperature",
                icon,
            )
        )
    if view:
        ammonia = "Off / " + (OPEN_PROBE if reading.ammonia_ppm is None else str(round(reading.ammonia_ppm)))
    else:
        ammonia = _ammonia(reading)
    rows += [
        sensor_row("Ammonia", "Ammonia", ammonia, "UT_Number", None),
        sensor_row("Wind_Speed", "Wind Speed", "0.0" if view else "0", "UT_Number", None),
        sensor_row("Wind_Direction", "Wind Direction", "0", "UT_Number", None),
    ]
    return rows


def _digital_out(reading: Reading) -> list[dict[str, Any]]:
    devices = (
        ("Heaters", "Heaters", _count_or_off(len(reading.heaters_on)), curves.HEATERS_INSTALLED),
        ("Tunnel_Fans", "Tunnel Fans", _count_or_off(reading.tunnel_fans_on), curves.TUNNEL_FANS_INSTALLED),
        ("Exh_Fans", "Exh Fans", _count_or_off(reading.exhaust_fans_on), curves.EXHAUST_FANS_INSTALLED),
        ("Stir_Fans", "Stir Fans", _count_or_off(reading.stir_fans_on), 2),
        ("Cooling_Pad", "Cooling Pad", _count_or_off(int(reading.cool_pad_on)), 1),
        ("Light", "Light", "2" if reading.lights_on else OFF, 8),
        ("Feeding", "Feeding", "2" if reading.feeding else OFF, 2),
        ("Auger", "Auger", "2" if reading.feeding else OFF, 2),
    )
    rows = []
    for key, display, value, installed in devices:
        row = _row(key, display, value, "UT_Number", data=str(installed))
        row["IsDeviceActive"] = None
        rows.append(row)
    return rows


def _analog_out(reading: Reading) -> list[dict[str, Any]]:
    outputs = (
        ("Air_Vent_1_Position", "Air Vent 1 Position (%)", round(reading.inlet_pct), "PP_Vent"),
        (
            "Tunnel_Curtain_1_Position",
            "Tunnel Curtain 1 Position (%)",
            round(reading.curtain_pct),
            "TunnelCurtain",
        ),
        ("Light1", "Light Dimmer 1", reading.light_pct, "LightDimmer"),
    )
    rows = []
    for key, display, value, category in outputs:
        row = _row(key, display, str(value), "UT_Percent")
        row["ParameterCategory"] = category
        row["ParameterPosition"] = "1"
        rows.append(row)
    return rows


def _series(values: list[float]) -> str:
    return ";".join(trim_number(value, 1) for value in values)


def _history_rows(house: HouseModel, reading: Reading, units: UnitRenderer) -> tuple[list[Any], list[Any]]:
    averages = [units.temperature(value) for value in house.hourly_avg]
    targets = [units.temperature(value) for value in house.hourly_target]
    temp_rows = [
        _row(
            "Last24HourTemperature_AVG",
            "Last 24 Hour - Avarage Temperature",
            _series(averages),
            "UT_Temperature",
        ),
        _row(
            "Last24HourTemperature_TARGET",
            "Last 24 Hour - Target Temperature",
            _series(targets),
            "UT_Temperature",
        ),
    ]
    days = range(reading.growth_day - 9, reading.growth_day + 1)
    measured = [units.weight(house.weight_kg(day + 0.5)) if day >= 0 else 0.0 for day in days]
    target = [units.weight(curves.body_weight_kg(day + 0.5)) if day >= 0 else 0.0 for day in days]
    weight_rows = [
        _row(
            "Last10DayAvgBirdWeight_AVG",
            "Avg. Birds Weight",
            ";".join(trim_number(value, 3) for value in measured),
            "UT_Weight",
        ),
        _row(
            "Last10DayAvgBirdWeight_TARGET",
            "Target Birds Weight",
            ";".join(trim_number(value, 3) for value in target),
            "UT_Weight",
        ),
    ]
    return temp_rows, weight_rows


def command_zero(house: HouseModel, units: UnitRenderer, placeholders: bool = False) -> dict[str, Any]:
    """Build RNBL_GetCommandData(CommandID 0)'s dsData for one house (``placeholders``: see site info)."""
    reading = house.reading
    assert reading is not None, "a house is rendered only after its first step"
    signs = units.signs()
    raw, view = _general_values(reading, units)
    general = [_row(key, display, raw[key], unit) for key, display, unit in _GENERAL_ROWS]
    feed = units.weight(reading.feed_today_kg)
    water = units.volume(reading.water_today_l)
    # The water/feed rate is litres per kg whatever the account's units.
    ratio = (
        trim_number(reading.water_today_l / reading.feed_today_kg, 1)
        if reading.feed_today_kg > 0.5
        else "N/A"
    )
    wod = units.raw_pressure(0.0)
    consumption = [
        _row("WOD_Pressue", "W.O.D. Pressure", wod, "UT_Pressure"),
        _row("Daily_Water", "Daily Water", str(round(water)), "UT_Volume"),
        _row("Daily_Feed", "Daily Feed", str(round(feed)), "UT_Weight"),
        _row("Daily_WaterFeedRate", "Water/Feed Rate", ratio, "UT_WaterFeedRate"),
    ]
    consumption_view: dict[str, str] = {"WOD_Pressue_Sign": signs["UT_Pressure"], "WOD_Pressue": wod}
    if signs["UT_Volume"]:
        consumption_view["Daily_Water_Sign"] = signs["UT_Volume"]
    consumption_view.update(
        {
            "Daily_Water": fixed(water, 0),
            "Daily_Feed_Sign": signs["UT_Weight"],
            "Daily_Feed": fixed(feed, 0),
            "Daily_WaterFeedRate": ratio,
        }
    )
    weight = units.weight(reading.average_weight_kg)
    weighings = str(_weighings(reading))
    avg_weight = [
        _row("Average_Weight", "Average Weight", trim_number(weight, 3), "UT_Weight"),
        _row("Number_Of_Weights", "Number Of Weights", weighings, "UT_Number"),
    ]
    feed_inventory = [_row(f"Silo_{n}", str(n), "0", "UT_Weight", data="0") for n in range(1, 5)]
    history_temp, history_weight = _history_rows(house, reading, units)
    display_values = {key: display for key, display, _unit in _GENERAL_ROWS}
    display_values["Max_Vent_Level"] = "Maximum"
    light = str(reading.light_pct)
    curtain = str(round(reading.curtain_pct))
    inlet = str(round(reading.inlet_pct))
    return {
        "General": general,
        "TempSensor": _temp_sensor_rows(reading, units, view=False),
        "Consumption": consumption,
        "AvgWeight": avg_weight,
        "FeedInv": feed_inventory,
        "DigitalOut": _digital_out(reading),
        "AnalogOut": _analog_out(reading),
        "HistoryTemp": history_temp,
        "HistoryWeight": history_weight,
        "Silo1": [
            _row("Rsw2DailyFeed1", "Daily Feed", None, "UT_Weight"),
            _row("Rsw2Auger1", "Auger", None, "UT_Number"),
        ],
        "Silo2": [],
        "IrrigationChartArray": [],
        "SelectedHouseUnits": [],
        "Errors": [],
        "eRNBLResult": [{"Value": 20}],
        "MDT": MDT_MARKER if placeholders else MDT_ROWS,
        "General_View": [_with_signs(view, signs)],
        "Consumption_View": [consumption_view],
        "General_DisplayValues": [_with_signs(display_values, signs)],
        "AvgWeight_View": [
            {
                "Average_Weight_Sign": signs["UT_Weight"],
                "Average_Weight": fixed(weight, 3),
                "Number_Of_Weights": weighings,
            }
        ],
        "TempSensor_View": _temp_sensor_rows(reading, units, view=True),
        "FeedInv_View": [dict(row) for row in feed_inventory],
        "HistoryTemp_View": [dict(row) for row in history_temp],
        "HistoryWeight_View": [dict(row) for row in history_weight],
        "IrrigationChartArray_View": [],
        "DicAnalogSensors": [
            {
                "Key": "Light Dimmer",
                "Data": [
                    {"Category": "Light Dimmer", "PositionNumber": 1, "Value": light, "Value_Sign": "%"}
                ],
            },
            {
                "Key": "Tunnel Curtain",
                "Data": [
                    {"Category": "Tunnel Curtain", "PositionNumber": 1, "Value": curtain, "Value_Sign": "%"}
                ],
            },
            {
                "Key": "Vent",
                "Data": [{"Category": "Vent", "PositionNumber": 1, "Value": inlet, "Value_Sign": "%"}],
            },
        ],
        "Silo1_View": [{"Rsw2DailyFeed1": "", "Rsw2Auger1": ""}],
        "Silo2_View": [{}],
    }


def offline_command_data() -> dict[str, Any]:
    """Return dsData for a controller the gateway cannot reach: an API_ERROR result and no tables."""
    return {
        "Errors": [{"ErrorCode": -999981, "ErrorMessage": "ErrControllerNotFound"}],
        "eRNBLResult": [{"Value": 10}],
    }


def _empty_house_data() -> dict[str, Any]:
    return {name: _empty_data_entry() for name in DATA_CATEGORIES}


HOUSE_DATA_MARKER = "\x00house-data\x00"
CONTROLLER_MARKER = "\x00controller-type\x00"
MDT_MARKER = "\x00mdt\x00"
_FRAGMENTS = {
    json.dumps(HOUSE_DATA_MARKER): json.dumps(_empty_house_data(), separators=(",", ":")),
    json.dumps(CONTROLLER_MARKER): json.dumps(CONTROLLER_TYPE_INFO, separators=(",", ":")),
    json.dumps(MDT_MARKER): json.dumps(MDT_ROWS, separators=(",", ":")),
}


def expand_placeholders(text: str) -> str:
    """Replace the marker strings of a payload built with ``placeholders`` by their JSON blocks."""
    for marker, fragment in _FRAGMENTS.items():
        if marker in text:
            text = text.replace(marker, fragment)
    return text
