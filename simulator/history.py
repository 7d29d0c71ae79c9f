"""History commands of RNBL_GetCommandData: one row per growth day from -1, today's row partial.

35 temperature, 36 humidity, 40 water, 41 feed and 43 heater runtimes. Each payload carries ``MDT``,
``ColumnsDefinitions`` (grouped headers), ``ColumnsModelFields``, ``Data`` and the same rows again in
``GridTables``, like the portal. Shapes of 36, 41 and 43 are not public; they follow 35 and 40.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.model import DailyRecord, HouseModel
from simulator.units import UnitRenderer, trim_number

NO_VALUE = -9999.0
HISTORY_COMMANDS = (35, 36, 40, 41, 43)


@dataclass(frozen=True)
class Column:
    """One history column: field name, headers, format and the header group it sits under."""

    field: str
    header: str
    mobile_header: str
    lang_key: str
    display: str = "N0"
    data_type: str = "DT_Number"
    unit_type: str = "UT_Number"
    keypad: str = "BaseNumericKeyPad"
    group: str = ""
    group_lang_key: str = ""
    width: str = "120px"
    mobile_width: str = "80px"
    css: str = "0"


@dataclass(frozen=True)
class CommandLayout:
    """The controller command behind a history menu entry and its columns."""

    command_name: str
    controller_command: str
    to_memory_version: str
    columns: tuple[Column, ...]
    locked_columns: int = 3
    """Leading columns marked IsColumnLocked; the temperature table locks none and numbers none."""


def _day_column(field: str, width: str) -> Column:
    mobile_width = "50px" if width else "80px"
    return Column(
        field, "Day", "Day", "PP_Day", width=width, mobile_width=mobile_width, css="column-dayOfGrowth"
    )


def _min_avg_max(unit_type: str) -> tuple[Column, ...]:
    return tuple(
        Column(
            f"QueueRecord_{name}Value",
            header,
            mobile,
            f"PP_{header}",
            "N1",
            "DT_Float",
            unit_type,
            "MinusPointNumericKeyPad",
            width="",
            mobile_width="0",
        )
        for name, header, mobile in (
            ("Minimum", "Min", "Minimum"),
            ("Average", "Avg", "Average"),
            ("Maximum", "Max", "Maximum"),
        )
    )


def _meter_columns(kind: str, count_field: str, change_field: str, label: str) -> tuple[Column, ...]:
    columns: list[Column] = []
    unit = "UT_Volume" if kind == "Water" else "UT_Weight"
    for number in range(1, 5):
        group = f"{label}-{number}"
        lang = f"{kind}HistoryColumnHeader_{kind}_Daily{number}"
        columns.append(
            Column(
                f"HistoryRecord_{count_field}_{number}",
                group,
                "Total",
                lang,
                unit_type=unit,
                group=group,
                group_lang_key=lang,
            )
        )
        columns.append(
            Column(
                f"HistoryRecord_{change_field}_{number}",
                "Change (%)",
                "Change (%)",
                f"{kind}HistoryColumnHeader_{kind}_Change",
                unit_type="UT_Percent",
                keypad="MinusPointNumericKeyPad",
                group=group,
                group_lang_key=lang,
                mobile_width="85px",
            )
        )
    return tuple(columns)


LAYOUTS: dict[int, CommandLayout] = {
    35: CommandLayout(
        "HistoryTemperature",
        "83",
        "33",
        (_day_column("QueueRecord_GrowthDay", ""), *_min_avg_max("UT_Temperature")),
        0,
    ),
    36: CommandLayout(
        "HistoryHumidity",
        "84",
        "33",
        (_day_column("QueueRecord_GrowthDay", ""), *_min_avg_max("UT_Percent")),
        0,
    ),
    40: CommandLayout(
        "HistoryWater",
        "126",
        "27",
        (
            _day_column("HistoryRecord_GrowthDay", "120px"),
            Column(
                "HistoryRecord_TotalDrink",
                "Total",
                "Total",
                "WaterHistoryColumnHeader_TotalDrinkDaily",
                unit_type="UT_Volume",
                group="Total Daily Water",
                group_lang_key="WaterHistoryColumnHeader_TotalDailyWater",
            ),
            Column(
                "HistoryRecord_ChangeTotal",
                "Change (%)",
                "Change (%)",
                "WaterHistoryColumnHeader_TotalDrinkChange",
                unit_type="UT_Percent",
                keypad="MinusPointNumericKeyPad",
                group="Total Daily Water",
                group_lang_key="WaterHistoryColumnHeader_TotalDailyWater",
                mobile_width="85px",
            ),
            Column(
                "HistoryRecord_WaterPerBird",
                "Water Per Bird",
                "Water Per Bird",
                "WaterHistoryColumnHeader_WaterPerBird",
                "N3",
                "DT_Float",
                "UT_Volume",
                "PointNumericKeyPad",
                width="150px",
                mobile_width="150px",
            ),
            *_meter_columns("Water", "DailyWater", "ChangeWater", "Water"),
            Column(
                "HistoryRecord_TotalWater",
                "Total Water",
                "Total Water",
                "WaterHistoryColumnHeader_TotalWater",
                unit_type="UT_Volume",
                mobile_width="90px",
            ),
            Column(
                "HistoryRecord_Cooling",
                "Cool Pad",
                "Cool Pad",
                "WaterHistoryColumnHeader_Coolpad",
                unit_type="UT_Volume",
                mobile_width="70px",
            ),
            Column(
                "HistoryRecord_Fogger",
                "Fogger",
                "Fogger",
                "WaterHistoryColumnHeader_Fogger",
                unit_type="UT_Volume",
            ),
        ),
    ),
    41: CommandLayout(
        "HistoryFeed",
        "85",
        "27",
        (
            _day_column("HistoryRecord_GrowthDay", "120px"),
            Column(
                "HistoryRecord_FeederTotal",
                "Total",
                "Total",
                "FeedHistoryColumnHeader_TotalFeedDaily",
                unit_type="UT_Weight",
                group="Total Daily Feed",
                group_lang_key="FeedHistoryColumnHeader_TotalDailyFeed",
            ),
            Column(
                "HistoryRecord_ChangeTotal",
                "Change (%)",
                "Change (%)",
                "FeedHistoryColumnHeader_TotalFeedChange",
                unit_type="UT_Percent",
                keypad="MinusPointNumericKeyPad",
                group="Total Daily Feed",
                group_lang_key="FeedHistoryColumnHeader_TotalDailyFeed",
                mobile_width="85px",
            ),
            Column(
                "HistoryRecord_FeedPerBird",
                "Feed Per Bird",
                "Feed Per Bird",
                "FeedHistoryColumnHeader_FeedPerBird",
                "N3",
                "DT_Float",
                "UT_Weight",
                "PointNumericKeyPad",
                width="150px",
                mobile_width="150px",
            ),
            *_meter_columns("Feed", "Feeder", "ChangeFeeder", "Feeder"),
        ),
    ),
    43: CommandLayout(
        "HistoryHeaters",
        "89",
        "33",
        (
            _day_column("HistoryRecord_Heaters_GrowthDay", "120px"),
            *(
                Column(
                    f"HistoryRecord_Heaters_HeaterDevice_{n}",
                    f"Heater {n}",
                    f"Heater {n}",
                    f"HeatersHistoryColumnHeader_Heater{n}",
                    "N0",
                    "DT_Time",
                    "UT_Time",
                )
                for n in range(1, 17)
            ),
        ),
    ),
}


def _mdt_row(layout: CommandLayout, index: int, column: Column) -> dict[str, Any]:
    group_key = f"<GroupName>{column.group_lang_key}" if column.group_lang_key else "<GroupName>"
    lang = f"<HeaderText>{column.lang_key};<CaptionText>;{group_key};<ListOfValues>"
    return {
        "CommandName": layout.command_name,
        "CommandID": layout.controller_command,
        "ControllerType": "BROILER,PIGS,BREEDER,AC3G",
        "VentilationMode": "RESTRICTEDFEED,BASICFEED,PRECISION,STANDARD,LAYERS",
        "LevelControl": "0",
        "ScaleMode": "0",
        "FromMajorVer": "1",
        "ToMajorVer": "-999",
        "FromMinorVer": "1",
        "ToMinorVer": "-999",
        "FromMemoryVer": "3",
        "ToMemoryVer": layout.to_memory_version,
        "FieldName": column.field,
        "ParentField": "",
        "FromRow": "-1",
        "ToRow": "-1",
        "FromCol": str(index),
        "ToCol": str(index),
        "ColWidth": column.width,
        "MobileColWidth": column.mobile_width,
        "MobileHeaderText": column.mobile_header,
        "HeaderText": column.header,
        "DisplayFormat": column.display,
        "EditFormat": column.display,
        "MinValue": "0",
        "MaxValue": "0",
        "DefaultValue": "0",
        "DataType": column.data_type,
        "FieldType": "FT_Text",
        "UnitType": column.unit_type,
        "KeyPadType": column.keypad,
        "KeypadTitle": "0",
        "MobileListOfValues": "0",
        "ListOfValues": "0",
        "IsReadOnly": "TRUE",
        "IsMandatory": "FALSE",
        "MobileCaptionText": "0",
        "CaptionText": "0",
        "VisibleIndex": index if layout.locked_columns else 0,
        "MobileGroupName": column.group or "0",
        "GroupName": column.group or "0",
        "HeaderCSS": "0",
        "CellCSS": column.css,
        "ScreenTamplate": "ST_MenuTable",
        "ContainerID": "0",
        "IsColumnLocked": "TRUE" if index < layout.locked_columns else "FALSE",
        "IsIgnored": "",
        "MobileLangKey": lang,
        "LangKey": lang,
        "IsFilter": "FALSE",
        "Filters": None,
        "ReadOnlyCondition": "",
        "FeedScaleProgram_feed_per_bird": None,
        "HK_BirdsScales_Scale": None,
    }


def _column_definition(column: Column) -> dict[str, Any]:
    return {
        "field": column.field,
        "title": column.header,
        "mobileTitle": column.mobile_header,
        "width": column.width,
        "mobileWidth": column.mobile_width if column.mobile_width != "0" else None,
        "attributes": {"class": column.css},
        "FieldType": "FT_Text",
        "DisplayFormat": column.display,
        "EditFormat": column.display,
        "MinValue": "0",
        "MaxValue": "0",
        "DefaultValue": "0",
        "DataType": column.data_type,
        "UnitType": column.unit_type,
        "KeyPadType": column.keypad,
        "KeyPadTitle": "0",
        "template": f"#: kendoUtils.setCellValue(data.{column.field}, '{column.display}') #",
        "ListOfValues": None,
        "ListOfValues_Arr": None,
        "columns": None,
        "IsReadOnly": "TRUE",
        "hidden": False,
        "ContainerID": "0",
        "ParentField": "",
        "ReadOnlyCondition": "",
    }


def _group_definition(title: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    empty = dict.fromkeys(_column_definition(Column("x", "x", "x", "x")), None)
    empty.update({"title": title, "columns": children})
    return empty


def _column_definitions(layout: CommandLayout) -> list[dict[str, Any]]:
    definitions: list[dict[str, Any]] = []
    for column in layout.columns:
        definition = _column_definition(column)
        if column.group:
            if definitions and definitions[-1]["field"] is None and definitions[-1]["title"] == column.group:
                definitions[-1]["columns"].append(definition)
            else:
                definitions.append(_group_definition(column.group, [definition]))
        else:
            definitions.append(definition)
    return definitions


def _change_percent(current: float, previous: float | None) -> float:
    """Return the day-on-day change rounded to whole percent, capped at +100, or NO_VALUE."""
    if previous is None:
        return NO_VALUE
    if previous <= 0:
        return 0.0 if current <= 0 else 100.0
    return float(min(100, round(100.0 * (current - previous) / previous)))


def _runtime(seconds: float) -> str:
    minutes = round(seconds / 60.0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _temperature_row(record: DailyRecord, units: UnitRenderer) -> dict[str, Any]:
    if record.samples == 0:
        values = [NO_VALUE] * 3
    else:
        values = [round(units.temperature(v), 2) for v in (record.temp_min, record.temp_avg, record.temp_max)]
    return {
        "QueueRecord_GrowthDay": float(record.growth_day),
        "QueueRecord_MinimumValue": values[0],
        "QueueRecord_AverageValue": values[1],
        "QueueRecord_MaximumValue": values[2],
    }


def _humidity_row(record: DailyRecord) -> dict[str, Any]:
    if record.samples == 0:
        values = [NO_VALUE] * 3
    else:
        values = [round(v, 2) for v in (record.humidity_min, record.humidity_avg, record.humidity_max)]
    return {
        "QueueRecord_GrowthDay": float(record.growth_day),
        "QueueRecord_MinimumValue": values[0],
        "QueueRecord_AverageValue": values[1],
        "QueueRecord_MaximumValue": values[2],
    }


def _meter_row(
    record: DailyRecord,
    previous: DailyRecord | None,
    elapsed: float,
    units: UnitRenderer,
    water: bool,
) -> dict[str, Any]:
    convert = units.volume if water else units.weight
    meters = [convert(value) for value in (record.water_l if water else record.feed_kg)] + [0.0, 0.0]
    before: list[float | None]
    if previous is None:
        before = [None] * 4
    else:
        # Today's partial row is compared with the same share of yesterday.
        source = previous.water_l if water else previous.feed_kg
        before = [convert(value) * elapsed for value in source] + [None, None]
    total = sum(meters)
    total_before = None if previous is None else sum(value for value in before if value is not None)
    birds = record.birds_at_end
    per_bird = trim_number(total / birds, 3) if birds else "0"
    row: dict[str, Any] = {"HistoryRecord_GrowthDay": float(record.growth_day)}
    meter, change = ("DailyWater", "ChangeWater") if water else ("Feeder", "ChangeFeeder")
    if water:
        row["HistoryRecord_TotalDrink"] = trim_number(total, 1)
    else:
        row["HistoryRecord_FeederTotal"] = trim_number(total, 1)
    row["HistoryRecord_ChangeTotal"] = _change_percent(total, total_before)
    row["HistoryRecord_WaterPerBird" if water else "HistoryRecord_FeedPerBird"] = per_bird
    for number in range(1, 5):
        value = meters[number - 1]
        row[f"HistoryRecord_{meter}_{number}"] = trim_number(value, 1)
        previous_value = before[number - 1]
        row[f"HistoryRecord_{change}_{number}"] = (
            NO_VALUE if number > 2 or previous_value is None else _change_percent(value, previous_value)
        )
    if water:
        row["HistoryRecord_TotalWater"] = trim_number(total, 1)
        row["HistoryRecord_Cooling"] = "0"
        row["HistoryRecord_Fogger"] = "0"
        row["Flushing"] = "0"
    return row


def _heater_row(record: DailyRecord) -> dict[str, Any]:
    row: dict[str, Any] = {"HistoryRecord_Heaters_GrowthDay": float(record.growth_day)}
    for number in range(1, 17):
        row[f"HistoryRecord_Heaters_HeaterDevice_{number}"] = _runtime(record.heater_seconds[number - 1])
    return row


def history_rows(command: int, house: HouseModel, units: UnitRenderer) -> list[dict[str, Any]]:
    """Return the Data rows of a history command for a house, days -1 .. today."""
    reading = house.reading
    assert reading is not None, "a house is rendered only after its first step"
    elapsed = (reading.local.hour * 60 + reading.local.minute) / 1440.0
    rows: list[dict[str, Any]] = []
    days = sorted(day for day in house.history if day <= reading.growth_day)
    for index, day in enumerate(days):
        record = house.history[day]
        previous = house.history.get(day - 1)
        share = elapsed if day == reading.growth_day else 1.0
        if command == 35:
            row = _temperature_row(record, units)
        elif command == 36:
            row = _humidity_row(record)
        elif command in (40, 41):
            row = _meter_row(record, previous, share if previous else 1.0, units, water=command == 40)
        else:
            row = _heater_row(record)
        row["RowNum"] = index
        rows.append(row)
    return rows


def history_command(command: int, house: HouseModel, units: UnitRenderer) -> dict[str, Any]:
    """Build the dsData of a history command."""
    layout = LAYOUTS[command]
    data = history_rows(command, house, units)
    definitions = _column_definitions(layout)
    model = [{"ModelFieldsData": {column.field: {"editable": False} for column in layout.columns}}]
    return {
        "SecondaryMDT": [],
        "Attributes": [],
        "MDT": [_mdt_row(layout, index, column) for index, column in enumerate(layout.columns)],
        "Errors": [],
        "eRNBLResult": [{"Value": 20}],
        "ColumnsModelFields": model,
        "ColumnsDefinitions": definitions,
        "Data": data,
        "GridTables": [
            {
                "ContainerID": "Data",
                "ColumnsModel": model,
                "ColumnsDefinitions": definitions,
                "Data": data,
                "IsHeaderHidden": False,
                "IsReadOnly": False,
                "IsEmptyCellsEditable": False,
                "IsScrollDown": True,
            }
        ],
        "ExtraTables": [],
    }
