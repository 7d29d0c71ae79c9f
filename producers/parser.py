"""Turn portal payloads into farmstream events: readings, house statuses and dead letters.

Time rules, in order: ``observed_at`` is the portal's ``LastUpdateDT`` when the caller has it (the
scraper takes it from ``GetSiteControllersInfo``). Without it, the controller's ``HH:MM`` is put on
the fetch date in the farm's time zone. A clock more than 12 hours ahead of the fetch belongs to the
previous day, and one more than 12 hours behind belongs to the next. Without a clock, the fetch time
is used. History rows are observed at local midnight of their day, counted back from the current
growth day on the portal's date. Event ids are deterministic, so the same data gives the same events.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from producers import mapping, values
from producers.exceptions import InvalidValueError, PayloadError, UnitError
from producers.site_info import CONNECTION_STATUS, SiteHouse, SiteInfo
from producers.tables import Cell, CommandData, HistoryRow
from producers.units import (
    CANONICAL_QUANTITY,
    CONVERTIBLE,
    UNIT_TYPE_QUANTITY,
    Quantity,
    UnitSettings,
    convert,
    quantity_of_unit_type,
    unit_from_sign,
)
from schemas.events import (
    ConnectionStatus,
    DeadLetter,
    HouseStatus,
    Period,
    Reading,
    controller_id_for,
    deterministic_id,
    payload_digest,
)
from schemas.parameters import Parameter, get_parameter

GROWTH_DAY_RANGE = (-7, 120)
_HALF_DAY = timedelta(hours=12)


@dataclass(frozen=True)
class ParseContext:
    """Parser inputs besides the payload: the farm, its time zone, its units and the fetch time."""

    farm_id: str
    timezone: tzinfo
    fetched_at: datetime
    units: UnitSettings
    observed_at: datetime | None = None
    """The portal's time of the data (``LastUpdateDT``), when known."""


@dataclass
class HouseResult:
    """The events of one house from one payload, with what was skipped."""

    house_number: int
    command: str
    observed_at: datetime
    connection_status: ConnectionStatus = "connected"
    readings: list[Reading] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    sentinel_keys: list[str] = field(default_factory=list)
    unmapped_keys: list[str] = field(default_factory=list)
    growth_day: int | None = None
    controller_time: str | None = None
    house_mode: int | None = None
    siren_on: bool | None = None
    alarm_codes: list[str] = field(default_factory=list)

    def parameters(self) -> set[str]:
        """Return the parameter names this result has readings for."""
        return {reading.parameter for reading in self.readings}

    def merge(self, other: HouseResult) -> None:
        """Add another payload's events of the same house; a parameter already read here wins."""
        present = self.parameters()
        self.readings.extend(reading for reading in other.readings if reading.parameter not in present)
        self.dead_letters.extend(other.dead_letters)
        for key in other.sentinel_keys:
            rule = mapping.live_rule(key.split(".", 1)[-1])
            if key not in self.sentinel_keys and (rule is None or rule.parameter not in present):
                self.sentinel_keys.append(key)
        self.unmapped_keys.extend(other.unmapped_keys)
        self.growth_day = self.growth_day if self.growth_day is not None else other.growth_day
        self.controller_time = self.controller_time or other.controller_time
        self.house_mode = self.house_mode if self.house_mode is not None else other.house_mode
        self.siren_on = self.siren_on if self.siren_on is not None else other.siren_on
        self.alarm_codes.extend(code for code in other.alarm_codes if code not in self.alarm_codes)

    def status(self, context: ParseContext) -> HouseStatus:
        """Build the house's status event for this scrape."""
        controller = controller_id_for(context.farm_id, self.house_number)
        return HouseStatus(
            event_id=HouseStatus.make_id(controller, self.observed_at),
            farm_id=context.farm_id,
            house_number=self.house_number,
            controller_id=controller,
            connection_status=self.connection_status,
            growth_day=self.growth_day,
            controller_time=self.controller_time,
            house_mode=self.house_mode,
            siren_on=self.siren_on,
            alarm_codes=list(self.alarm_codes),
            readings_published=len(self.readings),
            sentinel_keys=sorted(set(self.sentinel_keys)),
            observed_at=self.observed_at,
            fetched_at=context.fetched_at,
        )


def command_name(command_id: int | str) -> str:
    """Return the ``source_command`` of a command, for example ``RNBL_GetCommandData/0``."""
    return f"RNBL_GetCommandData/{command_id}"


SITE_INFO_COMMAND = "GetSiteControllersInfo"


def dead_letter(
    context: ParseContext,
    error: PayloadError,
    *,
    command: str | None,
    house_number: int | None,
    source_key: str | None,
    raw: bytes,
    observed_at: datetime | None = None,
) -> DeadLetter:
    """Build the dead letter of a payload or value that could not be parsed.

    The id covers the data's time (``observed_at``, else the fetch time), so the same bad value in a
    later scrape is a new dead letter while parsing the same payload again gives the same id.
    """
    digest = payload_digest(raw)
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    moment = (observed_at or context.fetched_at).isoformat()
    return DeadLetter(
        event_id=deterministic_id(
            "dead_letter", "producer", context.farm_id, house_number, command, source_key, moment, digest
        ),
        stage="producer",
        reason=str(error),
        error_type=error.error_type,
        farm_id=context.farm_id,
        house_number=house_number,
        command=command,
        source_key=source_key,
        raw_encoding=encoding,
        raw_payload=text,
        created_at=context.fetched_at,
    )


def _row_bytes(row: object) -> bytes:
    return json.dumps(row, ensure_ascii=False, default=str, sort_keys=True).encode()


def _quantity(parameter: Parameter) -> Quantity:
    return CANONICAL_QUANTITY[parameter.unit]


def _check_unit_type(cell: Cell, parameter_quantity: Quantity) -> None:
    """Raise UnitError when the payload's unit type names another physical quantity than the parameter's."""
    if cell.unit_type is None:
        return
    payload_quantity = quantity_of_unit_type(cell.unit_type)
    if payload_quantity == "temperature_difference":
        payload_quantity = "temperature"
    # Percent and count parameters tolerate mislabelled types (Ammonia rows carry UT_Temperature in MDT).
    if (
        payload_quantity in CONVERTIBLE
        and parameter_quantity in CONVERTIBLE
        and payload_quantity != parameter_quantity
    ):
        raise UnitError(
            f"unit type {cell.unit_type} of {cell.source_key} does not measure {parameter_quantity}"
        )


def _convert_cell(cell: Cell, raw_value: float, parameter: Parameter, units: UnitSettings) -> float:
    quantity = _quantity(parameter)
    _check_unit_type(cell, quantity)
    return convert(raw_value, quantity, cell.sign, units)


def _quality(parameter: Parameter, value: float) -> str:
    if parameter.minimum is not None and value < parameter.minimum:
        return "out_of_range"
    if parameter.maximum is not None and value > parameter.maximum:
        return "out_of_range"
    return "good"


def _in_growth_range(day: int | None) -> int | None:
    if day is None or not GROWTH_DAY_RANGE[0] <= day <= GROWTH_DAY_RANGE[1]:
        return None
    return day


def observed_time(context: ParseContext, clock: tuple[int, int] | None) -> datetime:
    """Return when live values were measured, following the module's time rules."""
    if context.observed_at is not None:
        return context.observed_at
    if clock is None:
        return context.fetched_at
    fetched_local = context.fetched_at.astimezone(context.timezone)
    candidate = datetime.combine(fetched_local.date(), time(clock[0], clock[1]), tzinfo=context.timezone)
    if candidate - fetched_local > _HALF_DAY:
        candidate = datetime.combine(
            fetched_local.date() - timedelta(days=1), time(clock[0], clock[1]), tzinfo=context.timezone
        )
    elif fetched_local - candidate > _HALF_DAY:
        candidate = datetime.combine(
            fetched_local.date() + timedelta(days=1), time(clock[0], clock[1]), tzinfo=context.timezone
        )
    return candidate.astimezone(UTC)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


class _Builder:
    """Collects the events of one house from one payload."""

    def __init__(self, context: ParseContext, result: HouseResult) -> None:
        self.context = context
        self.result = result
        self.controller_id = controller_id_for(context.farm_id, result.house_number)
        self.seen = {(reading.parameter, reading.observed_at) for reading in result.readings}

    def fail(self, error: PayloadError, cell: Cell | None, row: Mapping[str, Any] | None = None) -> None:
        if row is None and cell is not None:
            row = cell.row
        raw = _row_bytes(row)
        self.result.dead_letters.append(
            dead_letter(
                self.context,
                error,
                command=self.result.command,
                house_number=self.result.house_number,
                source_key=cell.source_key if cell else None,
                raw=raw,
                observed_at=self.result.observed_at,
            )
        )

    def no_value(self, cell: Cell) -> None:
        if cell.source_key not in self.result.sentinel_keys:
            self.result.sentinel_keys.append(cell.source_key)

    def add(
        self,
        parameter: Parameter,
        cell: Cell,
        value: float,
        *,
        observed_at: datetime,
        period: Period = "instant",
        growth_day: int | None = None,
        controller_time: str | None = None,
        target: float | None = None,
    ) -> None:
        if (parameter.name, observed_at) in self.seen:
            # A second key for the same parameter (Humidity_1 and Humidity_Current): the first one wins.
            self.result.unmapped_keys.append(cell.source_key)
            return
        self.seen.add((parameter.name, observed_at))
        self.result.readings.append(
            Reading(
                event_id=Reading.make_id(self.controller_id, parameter.name, period, observed_at),
                farm_id=self.context.farm_id,
                house_number=self.result.house_number,
                controller_id=self.controller_id,
                parameter=parameter.name,
                source_key=cell.source_key,
                source_command=self.result.command,
                value=value,
                unit=parameter.unit,
                quality="good" if _quality(parameter, value) == "good" else "out_of_range",
                target=target,
                period=period,
                growth_day=growth_day,
                controller_time=controller_time,
                observed_at=observed_at,
                fetched_at=self.context.fetched_at,
            )
        )

    def check_unmapped(self, cell: Cell) -> None:
        """Count an unmapped key, or dead-letter it when it is a number with an unknown unit."""
        self.result.unmapped_keys.append(cell.source_key)
        try:
            number = values.parse_number(cell.value)
        except InvalidValueError:
            return
        if number is None:
            return
        try:
            if cell.unit_type is not None and cell.unit_type not in UNIT_TYPE_QUANTITY:
                quantity_of_unit_type(cell.unit_type)
            if cell.sign and cell.sign.strip() and cell.sign.strip() != "%":
                unit_from_sign(cell.sign)
        except UnitError as error:
            self.result.unmapped_keys.remove(cell.source_key)
            self.fail(error, cell)


def _house_facts(cells: Sequence[Cell], builder: _Builder) -> tuple[int | None, tuple[int, int] | None]:
    """Read growth day, clock, siren and house mode into the result; return growth day and clock."""
    result = builder.result
    by_key = {cell.key: cell for cell in cells}
    growth_day: int | None = None
    clock: tuple[int, int] | None = None
    for key in mapping.GROWTH_DAY_KEYS:
        if key in by_key:
            try:
                growth_day = values.parse_integer(by_key[key].value)
            except InvalidValueError:
                growth_day = None  # the growth-day reading dead-letters the value
            break
    for key in mapping.CLOCK_KEYS:
        if key in by_key:
            try:
                clock = values.parse_clock(by_key[key].value)
            except InvalidValueError as error:
                builder.fail(error, by_key[key])
            if clock is not None:
                result.controller_time = f"{clock[0]:02d}:{clock[1]:02d}"
            break
    for key in mapping.SIREN_KEYS:
        if key in by_key and by_key[key].value is not None:
            try:
                result.siren_on = values.parse_bool(by_key[key].value)
            except InvalidValueError as error:
                builder.fail(error, by_key[key])
            break
    for key in mapping.HOUSE_MODE_KEYS:
        if key in by_key:
            try:
                mode = values.parse_integer(by_key[key].value)
            except InvalidValueError:
                mode = None  # the house.mode reading dead-letters the value
            result.house_mode = mode if mode is not None else result.house_mode
            break
    result.growth_day = _in_growth_range(growth_day)
    return growth_day, clock


def _target_value(
    cells_by_key: Mapping[str, Cell], rule: mapping.Rule, parameter: Parameter, units: UnitSettings
) -> float | None:
    for key in rule.target_keys:
        cell = cells_by_key.get(key)
        if cell is None:
            continue
        try:
            raw = values.parse_number(cell.value)
            return None if raw is None else _convert_cell(cell, raw, parameter, units)
        except PayloadError:
            return None  # the target's own reading dead-letters it
    return None


def build_live(
    cells: Sequence[Cell],
    *,
    house_number: int,
    command: str,
    context: ParseContext,
    connection_status: ConnectionStatus = "connected",
    with_readings: bool = True,
) -> HouseResult:
    """Build a house's live readings from parameter-row or comparison cells."""
    result = HouseResult(
        house_number=house_number,
        command=command,
        observed_at=context.observed_at or context.fetched_at,
        connection_status=connection_status,
    )
    builder = _Builder(context, result)
    _, clock = _house_facts(cells, builder)
    result.observed_at = observed_time(context, clock)
    if not with_readings:
        return result

    cells_by_key: dict[str, Cell] = {}
    for cell in cells:
        cells_by_key.setdefault(cell.key, cell)

    for cell in cells:
        rule = mapping.live_rule(cell.key)
        if rule is None:
            builder.check_unmapped(cell)
            continue
        parameter = get_parameter(rule.parameter)
        try:
            if rule.kind == "device":
                _add_device(builder, rule, parameter, cell, result)
                continue
            raw = values.parse_number(cell.value)
            if raw is None or _uncounted(cells_by_key, rule):
                builder.no_value(cell)
                continue
            value = _convert_cell(cell, raw, parameter, context.units)
        except PayloadError as error:
            builder.fail(error, cell)
            continue
        builder.add(
            parameter,
            cell,
            value,
            observed_at=result.observed_at,
            growth_day=result.growth_day,
            controller_time=result.controller_time,
            target=_target_value(cells_by_key, rule, parameter, context.units),
        )
    return result


def _uncounted(cells_by_key: Mapping[str, Cell], rule: mapping.Rule) -> bool:
    """Return True when the rule's count key is 0, because then the value is no value."""
    if rule.counted_by is None or rule.counted_by not in cells_by_key:
        return False
    try:
        return values.parse_number(cells_by_key[rule.counted_by].value) == 0
    except InvalidValueError:
        return False


def _add_device(
    builder: _Builder, rule: mapping.Rule, parameter: Parameter, cell: Cell, result: HouseResult
) -> None:
    running = values.parse_device_count(cell.value)
    installed = values.parse_number(cell.data) if cell.data not in (None, "") else None
    if running is None:
        builder.no_value(cell)
    else:
        builder.add(
            parameter,
            cell,
            running,
            observed_at=result.observed_at,
            growth_day=result.growth_day,
            controller_time=result.controller_time,
        )
    if installed is not None and rule.installed_parameter:
        installed_cell = Cell(table=cell.table, key=f"{cell.key}_Installed", value=cell.data, row=cell.row)
        builder.add(
            get_parameter(rule.installed_parameter),
            installed_cell,
            installed,
            observed_at=result.observed_at,
            growth_day=result.growth_day,
            controller_time=result.controller_time,
        )


def build_history(
    rows: Iterable[HistoryRow],
    *,
    command_id: int,
    house_number: int,
    context: ParseContext,
    current_growth_day: int | None = None,
    include_current_day: bool = True,
) -> HouseResult:
    """Build daily-summary readings from history rows, one per mapped field and growth day.

    Without ``current_growth_day`` the highest growth day in the rows is taken as today. The current
    day's row is day-to-date, so its values still change. ``include_current_day=False`` leaves it out,
    and then only complete days are published under their deterministic ids.
    """
    command = command_name(command_id)
    result = HouseResult(house_number=house_number, command=command, observed_at=context.fetched_at)
    builder = _Builder(context, result)

    days: list[tuple[HistoryRow, int]] = []
    for row in rows:
        try:
            day = values.parse_integer(row.growth_day)
            if day is None:
                raise InvalidValueError(f"history row has no growth day: {row.growth_day!r}")
        except InvalidValueError as error:
            builder.fail(error, None, row.row)
            continue
        days.append((row, day))
    if not days:
        return result
    today = current_growth_day if current_growth_day is not None else max(day for _, day in days)
    # The portal's own time decides today's date, so a simulated or lagging portal clock dates rows right.
    portal_now = context.observed_at or context.fetched_at
    fetched_date = portal_now.astimezone(context.timezone).date()

    for row, day in days:
        if day > today or (day == today and not include_current_day):
            continue
        if _in_growth_range(day) is None:
            builder.fail(InvalidValueError(f"growth day {day} outside {GROWTH_DAY_RANGE}"), None, row.row)
            continue
        observed_at = _local_midnight(fetched_date - timedelta(days=today - day), context.timezone)
        for cell in row.cells:
            rule = mapping.history_rule(command_id, cell.key)
            if rule is None:
                if cell.source_key not in result.unmapped_keys:
                    builder.check_unmapped(cell)
                continue
            parameter = get_parameter(rule.parameter)
            try:
                if rule.kind == "runtime":
                    value = values.parse_runtime_seconds(cell.value)
                else:
                    raw = values.parse_number(cell.value)
                    value = None if raw is None else _convert_cell(cell, raw, parameter, context.units)
            except PayloadError as error:
                builder.fail(error, cell)
                continue
            if value is None:
                builder.no_value(cell)
                continue
            builder.add(parameter, cell, value, observed_at=observed_at, period="day", growth_day=day)
    result.growth_day = _in_growth_range(today)
    return result


def build_command(
    data: CommandData,
    *,
    command_id: int,
    house_number: int,
    context: ParseContext,
    current_growth_day: int | None = None,
    include_current_day: bool = True,
) -> HouseResult:
    """Build the events of any ``RNBL_GetCommandData`` payload: its live rows and its history rows."""
    result = build_live(
        data.cells, house_number=house_number, command=command_name(command_id), context=context
    )
    status_cell = data.cell("House_Connection_Status")
    if status_cell is not None:
        try:
            code = values.parse_integer(status_cell.value)
        except InvalidValueError:
            code = None
        if code is not None:
            result.connection_status = CONNECTION_STATUS.get(code, "unknown")
    for part in data.malformed:
        result.dead_letters.append(
            dead_letter(
                context,
                PayloadError(part.reason),
                command=result.command,
                house_number=house_number,
                source_key=part.table,
                raw=_row_bytes(part.raw),
                observed_at=result.observed_at,
            )
        )
    if data.history:
        history = build_history(
            data.history,
            command_id=command_id,
            house_number=house_number,
            context=context,
            current_growth_day=current_growth_day if current_growth_day is not None else result.growth_day,
            include_current_day=include_current_day,
        )
        result.readings.extend(history.readings)
        result.dead_letters.extend(history.dead_letters)
        result.unmapped_keys.extend(history.unmapped_keys)
        result.sentinel_keys.extend(key for key in history.sentinel_keys if key not in result.sentinel_keys)
    return result


def build_site_house(house: SiteHouse, context: ParseContext) -> HouseResult:
    """Build one house of ``GetSiteControllersInfo``: readings only when it is connected."""
    result = build_live(
        house.cells,
        house_number=house.house_number,
        command=SITE_INFO_COMMAND,
        context=context,
        connection_status=house.connection_status,
        with_readings=house.connection_status == "connected",
    )
    if result.house_mode is None:
        result.house_mode = house.house_mode
    result.alarm_codes.extend(house.alarm_codes)
    return result


def build_site_info(site: SiteInfo, context: ParseContext) -> list[HouseResult]:
    """Build every house of a ``GetSiteControllersInfo`` payload, observed at its ``LastUpdateDT``."""
    if site.last_update is not None and context.observed_at is None:
        context = ParseContext(
            farm_id=context.farm_id,
            timezone=context.timezone,
            fetched_at=context.fetched_at,
            units=context.units,
            observed_at=site.last_update,
        )
    return [build_site_house(house, context) for house in site.houses]
