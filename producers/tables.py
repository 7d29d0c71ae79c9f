"""Generic reader of ``RNBL_GetCommandData`` payloads: every table of ``dsData`` into cells.

It reads table shapes, not commands: parameter-row tables (``General``, ``TempSensor``,
``DigitalOut``, ... any list of rows with ``ParameterKeyName``), their ``*_View`` twins (only for
unit signs), the ``MDT`` metadata (unit types), and grid tables (``GridTables``, or a top-level
``Data`` with ``ColumnsDefinitions``) whose rows carry a growth-day column. Which cells become
readings is decided by :mod:`producers.mapping`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from producers.exceptions import PayloadError

_GROWTH_DAY_FIELD = re.compile(r".*GrowthDay$", re.IGNORECASE)
_SKIPPED_GRID_FIELDS = frozenset({"RowNum"})


@dataclass(frozen=True)
class Cell:
    """One raw value of a house, with the unit type and unit sign the payload gives for it."""

    table: str
    key: str
    value: Any
    unit_type: str | None = None
    sign: str | None = None
    data: Any = None
    """``ParameterData`` (number of devices installed for a ``DigitalOut`` row) or ``HouseN_Data``."""
    row: Mapping[str, Any] | None = None
    """The raw row the value came from, kept for dead letters."""

    @property
    def source_key(self) -> str:
        """Return the portal's key as published in readings, for example ``General.Average_Temperature``."""
        return f"{self.table}.{self.key}"


@dataclass(frozen=True)
class HistoryRow:
    """One row of a history grid: a growth day and the day's cells."""

    container: str
    growth_day: Any
    row: Mapping[str, Any]
    cells: list[Cell]


@dataclass(frozen=True)
class MalformedPart:
    """A ``dsData`` table or row of a shape the scraper cannot read, kept raw for its dead letter."""

    table: str
    raw: object
    reason: str


@dataclass
class CommandData:
    """Everything a ``RNBL_GetCommandData`` payload holds, as cells."""

    menu_id: int | None
    house_number: int | None
    result_code: int | None
    cells: list[Cell] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)
    malformed: list[MalformedPart] = field(default_factory=list)

    def cell(self, key: str) -> Cell | None:
        """Return the first parameter-row cell with this key, or None."""
        for cell in self.cells:
            if cell.key == key:
                return cell
        return None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _metadata_unit_types(rows: object) -> dict[str, str]:
    types: dict[str, str] = {}
    if isinstance(rows, list):
        for row in rows:
            if isinstance(row, Mapping):
                name, unit_type = row.get("FieldName"), row.get("UnitType")
                if isinstance(name, str) and isinstance(unit_type, str) and name not in types:
                    types[name] = unit_type
    return types


def _column_unit_types(columns: object) -> dict[str, str]:
    """Flatten ``ColumnsDefinitions`` (grouped headers nest their columns) into field -> unit type."""
    types: dict[str, str] = {}
    if not isinstance(columns, list):
        return types
    for column in columns:
        if not isinstance(column, Mapping):
            continue
        name, unit_type = column.get("field"), column.get("UnitType")
        if isinstance(name, str) and isinstance(unit_type, str):
            types[name] = unit_type
        types.update(_column_unit_types(column.get("columns")))
    return types


def _view_signs(data_set: Mapping[str, Any]) -> dict[str, str]:
    """Collect ``<Key>_Sign`` entries of the one-row ``*_View`` tables."""
    signs: dict[str, str] = {}
    for name, rows in data_set.items():
        if not name.endswith("_View") or not isinstance(rows, list):
            continue
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            for key, value in row.items():
                if isinstance(key, str) and key.endswith("_Sign") and isinstance(value, str):
                    signs[key[: -len("_Sign")]] = value
    return signs


def _is_parameter_row(row: object) -> bool:
    return isinstance(row, Mapping) and "ParameterKeyName" in row


def _malformed_parts(data_set: Mapping[str, Any]) -> list[MalformedPart]:
    """Return the tables that are not lists and the rows of parameter tables that are not parameter rows.

    Every ``dsData`` table of the portal is a list of rows. A table is a parameter table when any
    of its rows names a parameter; its other rows would otherwise be skipped without a trace.
    """
    parts: list[MalformedPart] = []
    for table, rows in data_set.items():
        if not isinstance(rows, list):
            reason = f"dsData.{table} is a {type(rows).__name__}, expected a list of rows"
            parts.append(MalformedPart(table, rows, reason))
            continue
        if table.endswith("_View") or not any(_is_parameter_row(row) for row in rows):
            continue
        for index, row in enumerate(rows):
            key = row.get("ParameterKeyName") if isinstance(row, Mapping) else None
            if not isinstance(key, str) or not key:
                reason = f"dsData.{table}[{index}] is not a parameter row with a ParameterKeyName"
                parts.append(MalformedPart(table, row, reason))
    return parts


def _parameter_cells(
    data_set: Mapping[str, Any], unit_types: Mapping[str, str], signs: Mapping[str, str]
) -> list[Cell]:
    cells: list[Cell] = []
    for table, rows in data_set.items():
        if table.endswith("_View") or not isinstance(rows, list):
            continue
        for row in rows:
            if not _is_parameter_row(row):
                continue  # listed by _malformed_parts when the table contains parameter rows
            key = row.get("ParameterKeyName")
            if not isinstance(key, str) or not key:
                continue
            row_type = row.get("ParameterUnitType")
            # MDT is the metadata table and is right where a row's own type is not
            # (Birds_Livability rows carry UT_Pressure, MDT carries UT_Percent).
            unit_type = unit_types.get(key) or (row_type if isinstance(row_type, str) else None)
            cells.append(
                Cell(
                    table=table,
                    key=key,
                    value=row.get("ParameterValue"),
                    unit_type=unit_type,
                    sign=signs.get(key),
                    data=row.get("ParameterData"),
                    row=row,
                )
            )
    return cells


def _grids(data_set: Mapping[str, Any]) -> Iterable[tuple[str, object, object]]:
    grids = data_set.get("GridTables")
    if isinstance(grids, list) and grids:
        for grid in grids:
            if isinstance(grid, Mapping):
                container = grid.get("ContainerID")
                yield (
                    container if isinstance(container, str) and container else "Data",
                    grid.get("Data"),
                    grid.get("ColumnsDefinitions"),
                )
    elif isinstance(data_set.get("Data"), list):
        yield "Data", data_set.get("Data"), data_set.get("ColumnsDefinitions")


def _history_rows(data_set: Mapping[str, Any], metadata_types: Mapping[str, str]) -> list[HistoryRow]:
    history: list[HistoryRow] = []
    for container, rows, columns in _grids(data_set):
        if not isinstance(rows, list):
            continue
        unit_types = {**metadata_types, **_column_unit_types(columns)}
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            day_field = next((name for name in row if _GROWTH_DAY_FIELD.fullmatch(str(name))), None)
            cells = [
                Cell(table=container, key=name, value=value, unit_type=unit_types.get(name), row=row)
                for name, value in row.items()
                if name != day_field and name not in _SKIPPED_GRID_FIELDS
            ]
            growth_day = row.get(day_field) if day_field else None
            history.append(HistoryRow(container=container, growth_day=growth_day, row=row, cells=cells))
    return history


def read_command_data(payload: object) -> CommandData:
    """Read a ``RNBL_GetCommandData`` ``reponseObj`` into cells; PayloadError if it has no ``dsData``."""
    if not isinstance(payload, Mapping):
        raise PayloadError(
            f"invalid RNBL_GetCommandData payload: expected an object, got {type(payload).__name__}"
        )
    data_set = payload.get("dsData")
    if not isinstance(data_set, Mapping):
        raise PayloadError("RNBL_GetCommandData payload has no dsData object")

    result_rows = data_set.get("eRNBLResult")
    result_code = None
    if isinstance(result_rows, list) and result_rows and isinstance(result_rows[0], Mapping):
        result_code = _as_int(result_rows[0].get("Value"))

    metadata_types = _metadata_unit_types(data_set.get("MDT"))
    return CommandData(
        menu_id=_as_int(payload.get("MenuID")),
        house_number=_as_int(payload.get("HouseNumber")),
        result_code=result_code,
        cells=_parameter_cells(data_set, metadata_types, _view_signs(data_set)),
        history=_history_rows(data_set, metadata_types),
        malformed=_malformed_parts(data_set),
    )
