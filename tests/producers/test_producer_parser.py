"""Parser tests on small synthetic payloads: clock wrap at midnight, unknown unit types, offline houses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from producers.exceptions import PayloadError
from producers.parser import (
    ParseContext,
    build_command,
    build_live,
    build_site_house,
    dead_letter,
    observed_time,
)
from producers.site_info import SiteHouse
from producers.tables import Cell, read_command_data
from producers.units import METRIC
from schemas.events import Reading

CHICAGO = ZoneInfo("America/Chicago")


def _context(fetched_at: datetime) -> ParseContext:
    return ParseContext(farm_id="farm-a", timezone=CHICAGO, fetched_at=fetched_at, units=METRIC)


def test_clock_before_midnight_is_yesterday() -> None:
    fetched = datetime(2026, 4, 25, 5, 2, tzinfo=UTC)  # 00:02 in Chicago
    assert observed_time(_context(fetched), (23, 58)) == datetime(2026, 4, 24, 23, 58, tzinfo=CHICAGO)


def test_clock_after_midnight_is_tomorrow() -> None:
    fetched = datetime(2026, 4, 25, 4, 59, tzinfo=UTC)  # 23:59 in Chicago, the controller's clock is ahead
    assert observed_time(_context(fetched), (0, 1)) == datetime(2026, 4, 25, 0, 1, tzinfo=CHICAGO)


def test_portal_time_wins_over_clock() -> None:
    portal_time = datetime(2026, 4, 24, 10, 33, tzinfo=UTC)
    context = ParseContext("farm-a", CHICAGO, datetime(2026, 4, 24, 17, 0, tzinfo=UTC), METRIC, portal_time)
    assert observed_time(context, (12, 23)) == portal_time


def test_no_clock_uses_fetch_time() -> None:
    fetched = datetime(2026, 4, 24, 17, 0, tzinfo=UTC)
    assert observed_time(_context(fetched), None) == fetched


def test_unmapped_unknown_unit_dead_letters() -> None:
    cells = [
        Cell(
            table="General", key="Mystery", value="12", unit_type="UT_Furlong", row={"ParameterValue": "12"}
        ),
        Cell(table="General", key="Cycle", value="LangKey_Off", unit_type="UT_Number"),
    ]
    result = build_live(
        cells, house_number=1, command="RNBL_GetCommandData/0", context=_context(datetime.now(UTC))
    )
    assert [letter.source_key for letter in result.dead_letters] == ["General.Mystery"]
    assert result.dead_letters[0].error_type == "UnitError"
    assert result.unmapped_keys == ["General.Cycle"]


def test_offline_house_status_only() -> None:
    house = SiteHouse(
        house_number=4,
        connection_status="disconnected",
        house_mode=0,
        cells=[Cell(table="DicComparisonItems", key="Temperature_Current", value="29.9")],
    )
    result = build_site_house(house, _context(datetime(2026, 4, 24, 17, 0, tzinfo=UTC)))
    assert result.readings == []
    status = result.status(_context(datetime(2026, 4, 24, 17, 0, tzinfo=UTC)))
    assert status.connection_status == "disconnected"
    assert status.readings_published == 0


def test_lang_key_on_device_is_no_value() -> None:
    cells = [Cell(table="DigitalOut", key="Heaters", value="LangKey_On", data="8", unit_type="UT_Number")]
    result = build_live(
        cells, house_number=1, command="RNBL_GetCommandData/0", context=_context(datetime.now(UTC))
    )
    parameters = {reading.parameter: reading for reading in result.readings if isinstance(reading, Reading)}
    assert "device.heaters.running" not in parameters
    assert parameters["device.heaters.installed"].value == 8.0
    assert result.sentinel_keys == ["DigitalOut.Heaters"]


def test_binary_dead_letter_base64() -> None:
    raw = b"\xff\xfe\x00garbage"
    letter = dead_letter(
        _context(datetime(2026, 4, 24, 17, 0, tzinfo=UTC)),
        PayloadError("invalid JSON", raw),
        command="GetSiteControllersInfo",
        house_number=None,
        source_key=None,
        raw=raw,
    )
    assert letter.raw_encoding == "base64"
    assert base64.b64decode(letter.raw_payload) == raw


def test_malformed_tables_dead_lettered() -> None:
    payload = {
        "dsData": {
            "eRNBLResult": [{"Value": 0}],
            "General": "x",
            "TempSensor": [
                {
                    "ParameterKeyName": "Average_Temperature",
                    "ParameterValue": "24.5",
                    "ParameterUnitType": "UT_Temperature",
                },
                ["not", "a", "row"],
                {"ParameterValue": "25.0"},
            ],
            "General_View": [{"Anything": 1}],
        }
    }
    data = read_command_data(payload)
    result = build_command(data, command_id=0, house_number=2, context=_context(datetime.now(UTC)))
    letters = sorted(result.dead_letters, key=lambda letter: letter.reason)
    assert [letter.reason for letter in letters] == [
        "dsData.General is a str, expected a list of rows",
        "dsData.TempSensor[1] is not a parameter row with a ParameterKeyName",
        "dsData.TempSensor[2] is not a parameter row with a ParameterKeyName",
    ]
    assert [letter.raw_payload for letter in letters] == [
        '"x"',
        '["not", "a", "row"]',
        '{"ParameterValue": "25.0"}',
    ]
    assert {letter.house_number for letter in letters} == {2}
    # The readable row is still read.
    assert [reading.source_key for reading in result.readings] == ["TempSensor.Average_Temperature"]
