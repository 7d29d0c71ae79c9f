"""Each fault kind shows its documented signature in the served payloads, against a fault-free twin run.

Unit tests: the twin has the same configuration and seed without the fault; payloads come from the
in-process Portal, stepped directly (no HTTP).
"""

from __future__ import annotations

from dataclasses import replace
from statistics import mean
from typing import Any

from sim_helpers import Stepper, fault, general, local_start, one_farm, starting_at

from simulator.config import FaultSpec, SimulatorConfig


def _pair(config: SimulatorConfig, faults: tuple[FaultSpec, ...]) -> tuple[Stepper, Stepper]:
    return Stepper(replace(config, faults=faults)), Stepper(config)


def _series(stepper: Stepper, steps: int, probe: Any) -> list[Any]:
    values = []
    for _ in range(steps):
        values.append(probe(stepper))
        stepper.advance()
    return values


def _alarm_codes(stepper: Stepper, house: int) -> set[int]:
    return {alarm["AlarmCode"] for alarm in stepper.site()["HousesAlarms"] if alarm["HouseNumber"] == house}


def _at(config: SimulatorConfig, hour: int) -> SimulatorConfig:
    return starting_at(config, local_start(config, hour))


def test_heater_failure_on_cold_night() -> None:
    base = _at(one_farm(growth_day=5, weather_mean_c=8.0, weather_amplitude_c=5.0, dew_point_c=3.0), 20)
    faulty, twin = _pair(base, (fault("heater_failure", base.start, 11.0),))
    observed = _series(
        faulty,
        120,
        lambda s: (
            float(s.comparison("Temperature_Current", 1)),
            s.comparison("Heaters", 1),
            _alarm_codes(s, 1),
        ),
    )
    faulty_temps = [temperature for temperature, _heaters, _alarms in observed]
    twin_temps = _series(twin, 120, lambda s: float(s.comparison("Temperature_Current", 1)))
    assert any(heaters != "LangKey_Off" for _temperature, heaters, _alarms in observed)
    assert mean(faulty_temps[-72:]) < mean(twin_temps[-72:]) - 1.5
    target = float(faulty.comparison("Set_Temperature", 1))
    assert min(faulty_temps) < target - 2.0
    assert any(239 in alarms for _temperature, _heaters, alarms in observed)
    faulty_day = faulty.command(1, 43)["Data"][-1]
    twin_day = twin.command(1, 43)["Data"][-1]
    for number in range(1, 9):
        assert faulty_day[f"HistoryRecord_Heaters_HeaterDevice_{number}"] == "00:00"
    assert any(twin_day[f"HistoryRecord_Heaters_HeaterDevice_{n}"] != "00:00" for n in range(1, 9))


def test_fan_failure_lowers_pressure() -> None:
    base = _at(one_farm(weather_mean_c=22.0), 12)
    faulty, twin = _pair(base, (fault("fan_failure", base.start, 6.0, params={"capacity_loss": 0.45}),))
    assert faulty.comparison("Vent_Level", 1) == twin.comparison("Vent_Level", 1)
    assert float(faulty.comparison("Static_Pressure", 1)) < float(twin.comparison("Static_Pressure", 1)) - 5.0
    faulty_temps = _series(faulty, 72, lambda s: float(s.comparison("Temperature_Current", 1)))
    twin_temps = _series(twin, 72, lambda s: float(s.comparison("Temperature_Current", 1)))
    assert mean(faulty_temps) > mean(twin_temps) + 0.3
    faulty_levels = _series(faulty, 12, lambda s: int(s.comparison("Vent_Level", 1)))
    twin_levels = _series(twin, 12, lambda s: int(s.comparison("Vent_Level", 1)))
    assert mean(faulty_levels) > mean(twin_levels)


def test_stuck_inlet_freezes_position() -> None:
    base = _at(one_farm(weather_mean_c=22.0), 7)
    faulty, twin = _pair(base, (fault("stuck_inlet", base.start, 8.0, params={"position": 5.0}),))
    positions = _series(faulty, 84, lambda s: s.comparison("Air_Vent_1_Position", 1))
    assert set(positions) == {"5"}
    faulty_pressure = _series(faulty, 12, lambda s: int(s.comparison("Static_Pressure", 1)))
    twin_pressure = _series(twin, 96, lambda s: int(s.comparison("Static_Pressure", 1)))[-12:]
    assert max(faulty_pressure) > 40
    assert max(faulty_pressure) > max(twin_pressure) + 10
    twin_positions = {
        int(text) for text in _series(twin, 24, lambda s: s.comparison("Air_Vent_1_Position", 1))
    }
    assert twin_positions != {5}


def _probe_gap(stepper: Stepper, probe: int) -> float:
    values = [float(stepper.comparison(f"Temperature_Sensor_{n}", 1)) for n in range(1, 9)]
    others = [value for index, value in enumerate(values, start=1) if index != probe]
    return values[probe - 1] - mean(others)


def test_sensor_drift_diverges_slowly() -> None:
    base = _at(one_farm(), 10)
    drift = fault(
        "sensor_drift", base.start, 12.0, target="Temperature_Sensor_3", params={"rate_c_per_hour": 0.5}
    )
    faulty, twin = _pair(base, (drift,))
    early_gap = _probe_gap(faulty, 3)
    faulty.advance(96)
    twin.advance(96)
    assert _probe_gap(faulty, 3) > early_gap + 3.0
    assert abs(_probe_gap(twin, 3)) < 2.0
    faulty_average = float(faulty.comparison("Temperature_Current", 1))
    twin_average = float(twin.comparison("Temperature_Current", 1))
    assert abs(faulty_average - twin_average) < 1.5


def test_sensor_open_shows_sentinels() -> None:
    base = _at(one_farm(), 12)
    faulty, twin = _pair(base, (fault("sensor_open", base.start, 2.0, target="Temperature_Sensor_2"),))
    dataset = faulty.command(1)
    assert general(dataset, "Temperature_Sensor_2", "TempSensor") == "- - -"
    assert general(dataset, "Temperature_Sensor_2", "TempSensor_View") == "- - -"
    assert faulty.comparison("Temperature_Sensor_2", 1) == "-9999"
    assert twin.comparison("Temperature_Sensor_2", 1) not in ("-9999", "")
    assert 112 in _alarm_codes(faulty, 1)
    difference = float(faulty.comparison("Temperature_Current", 1)) - float(
        twin.comparison("Temperature_Current", 1)
    )
    assert abs(difference) < 1.0


def test_sensor_short_rails_probe() -> None:
    base = _at(one_farm(), 12)
    faulty, twin = _pair(base, (fault("sensor_short", base.start, 2.0, target="Temperature_Sensor_4"),))
    assert general(faulty.command(1), "Temperature_Sensor_4", "TempSensor") == "99.9"
    assert 111 in _alarm_codes(faulty, 1)
    assert 111 not in _alarm_codes(twin, 1)
    difference = float(faulty.comparison("Temperature_Current", 1)) - float(
        twin.comparison("Temperature_Current", 1)
    )
    assert abs(difference) < 1.0


def _daily_water(stepper: Stepper) -> float:
    return float(general(stepper.command(1), "Daily_Water", "Consumption"))


def test_water_leak_flows_in_dark() -> None:
    base = _at(one_farm(), 22)
    leak = fault("water_leak", base.start, 8.0, params={"leak_l_per_hour": 60.0})
    faulty, twin = _pair(base, (leak,))
    faulty_before, twin_before = _daily_water(faulty), _daily_water(twin)
    faulty.advance(22)
    twin.advance(22)
    faulty_delta = _daily_water(faulty) - faulty_before
    twin_delta = _daily_water(twin) - twin_before
    assert faulty_delta > twin_delta + 60.0
    assert twin_delta < 40.0
    assert 103 in _alarm_codes(faulty, 1)


def test_water_outage_flattens_meter() -> None:
    base = _at(one_farm(), 12)
    faulty, twin = _pair(base, (fault("water_outage", base.start, 5.0),))
    faulty_before, twin_before = _daily_water(faulty), _daily_water(twin)
    faulty.advance(48)
    twin.advance(48)
    assert _daily_water(faulty) - faulty_before < 2.0
    assert _daily_water(twin) - twin_before > 200.0
    assert 102 in _alarm_codes(faulty, 1)


def test_power_failure_turns_outputs_off() -> None:
    base = _at(one_farm(), 12)
    faulty, twin = _pair(base, (fault("power_failure", base.start, 1.0),))
    feed_before = float(general(faulty.command(1), "Daily_Feed", "Consumption"))
    faulty.advance(6)
    twin.advance(6)
    items = faulty.site()["DicComparisonItems"]
    for category in ("Heaters", "Tunnel_Fans", "Exh_Fans"):
        assert items[category]["House1"] == "LangKey_Off", category
    assert items["Current_Level_CFM"]["House1"] == "0"
    assert int(items["Static_Pressure"]["House1"]) <= 2
    assert int(twin.comparison("Static_Pressure", 1)) > 15
    assert 165 in _alarm_codes(faulty, 1)
    assert float(general(faulty.command(1), "Daily_Feed", "Consumption")) - feed_before < 1.0
    assert faulty.comparison("Temperature_Current", 1) != twin.comparison("Temperature_Current", 1)


def test_controller_offline_blanks_house() -> None:
    base = _at(one_farm(), 12)
    faulty, _twin = _pair(base, (fault("controller_offline", base.start, 1.0),))
    first = faulty.site()
    faulty.advance(6)
    later = faulty.site()
    status = {house["HouseNumber"]: house["ConnectionStatus"] for house in later["FarmHouses"]}
    assert status == {1: 2, 2: 1}
    items = later["DicComparisonItems"]
    assert items["HouseConnectionStatus"]["House1"] == "2"
    assert items["Temperature_Current"]["House1"] == ""
    assert items["Temperature_Current"]["House2"] != ""
    assert items["Time"]["House1"] == first["DicComparisonItems"]["Time"]["House1"]
    assert items["Time"]["House2"] != first["DicComparisonItems"]["Time"]["House2"]
    assert faulty.command(1)["eRNBLResult"] == [{"Value": 10}]
    assert 173 in _alarm_codes(faulty, 1)
    faulty.advance(12)
    assert faulty.comparison("HouseConnectionStatus", 1) == "1"
    assert faulty.command(1)["eRNBLResult"] == [{"Value": 20}]
