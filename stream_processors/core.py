"""The processing core: events in, alerts, failure predictions and recommendations out.

:class:`Processor` is synchronous and pure: no Kafka, no logging, no wall clock. Event time comes
from the events themselves, so a replay, a restart from a checkpoint or a simulator running faster
than real time gives the same outputs as live data. Readings and house statuses carry the portal's
clock (``observed_at``) and house statuses and scrape logs also the scraper's (``fetched_at``,
``finished_at``). The two clocks are never compared with each other: a controller is stale when
its portal time stops moving while the scraper's time goes on.

Each input partition is judged on its own events only. A house's readings and statuses share one
readings partition, and a farm's scrape logs live on another topic. No output depends on how the
two topics interleave, so a worker catching up on a backlog gives the same alerts as a live one.

All state lives in :class:`ProcessorState`, which pickles into a checkpoint (see
:mod:`stream_processors.checkpoint`). An event at or before the last event time already processed
for its key (sensor, controller status or farm scrape log) is ignored, so replaying events after
a restore emits nothing twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from schemas.decoding import AnyReading, DecodedReading
from schemas.events import (
    Alert,
    FailurePrediction,
    HouseStatus,
    Reading,
    Recommendation,
    ScrapeLog,
    controller_id_for,
    deterministic_id,
)
from schemas.parameters import PARAMETERS
from stream_processors import rules
from stream_processors.alerts import AlertKey, AlertMachine, AlertPolicy, Condition
from stream_processors.detectors import CounterRateDetector, Detector, detector_for
from stream_processors.failure import CycleErrors, FailureScore

Output = Alert | FailurePrediction | Recommendation
InputEvent = Reading | DecodedReading | HouseStatus | ScrapeLog

ANOMALY_RULE = "anomaly"
OUT_OF_RANGE_RULE = "sensor_out_of_range"
# The parameters that Processor._domain_rules judges; a reading of any other skips the call.
RULE_PARAMETERS = frozenset(
    {
        "temperature.average",
        "static_pressure",
        "co2",
        "ammonia",
        "humidity.inside",
        "water.daily",
        "feed.daily",
    }
)
# Key suffix under which ControllerState.latest keeps the target a reading carried.
TARGET_SUFFIX = "#target"
# Temperature probes. Each is judged against the house average when the controller reports one.
PROBE_PREFIX = "temperature.sensor_"

DEFAULT_POLICIES: dict[str, AlertPolicy] = {
    # Statistical detectors: a shift must last 10 minutes, and an episode stays one alert until the
    # signal has been normal for an hour. A new episode on the same sensor waits 6 hours.
    ANOMALY_RULE: AlertPolicy(pending_seconds=600, clear_seconds=3600, cooldown_seconds=6 * 3600),
    "temperature_off_target": AlertPolicy(pending_seconds=600, clear_seconds=600),
    "static_pressure_out_of_band": AlertPolicy(pending_seconds=600, clear_seconds=600),
    "co2_over_limit": AlertPolicy(pending_seconds=600, clear_seconds=600),
    # The ammonia limit is an exposure limit and night-time minimum ventilation brushes it, so the
    # level must stay over it for an hour.
    "ammonia_over_limit": AlertPolicy(pending_seconds=3600, clear_seconds=600),
    "water_to_feed_ratio": AlertPolicy(pending_seconds=1800, clear_seconds=1800),
    "water_at_night": AlertPolicy(pending_seconds=1200, clear_seconds=1800),
    "sensor_out_of_range": AlertPolicy(pending_seconds=0, clear_seconds=600),
    "sensor_failed": AlertPolicy(pending_seconds=0, clear_seconds=600),
    "controller_offline": AlertPolicy(pending_seconds=0, clear_seconds=0),
    "controller_alarm": AlertPolicy(pending_seconds=0, clear_seconds=600),
    "controller_stale": AlertPolicy(pending_seconds=0, clear_seconds=0),
    "scraper_failed": AlertPolicy(pending_seconds=0, clear_seconds=0),
}


@dataclass(frozen=True)
class ProcessorConfig:
    """Tunable behaviour of the processor; the defaults suit a 5-minute scrape."""

    scrape_interval_seconds: float = 300.0
    stale_warning_intervals: float = 2.0
    stale_critical_intervals: float = 4.0
    adapt_after_points: int = 144
    failure_window_cycles: int = 12
    failure_threshold: float = 0.3
    failure_min_cycles: int = 3
    recommendation_interval_seconds: float = 2 * 3600.0
    limits: rules.RuleLimits = field(default_factory=rules.RuleLimits)
    policies: dict[str, AlertPolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))

    def policy(self, rule: str) -> AlertPolicy:
        """Return the timing policy of a rule."""
        return self.policies.get(rule) or DEFAULT_POLICIES.get(rule) or AlertPolicy()


@dataclass
class SensorState:
    """One sensor's detector and the event time of its last processed reading.

    A temperature probe also has ``own``, a detector of its own level beside the main one of its
    residual against the house average.
    """

    detector: Detector | None
    last_at: datetime
    own: Detector | None = None


@dataclass
class ControllerState:
    """The processor's state of one house's controller."""

    farm_id: str
    house_number: int
    last_status_fetched_at: datetime | None = None
    fresh_portal_at: datetime | None = None
    fresh_fetched_at: datetime | None = None
    cycles_since_fresh: int = 0
    latest: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    out_of_range_since_status: int = 0
    always_absent: set[str] | None = None
    failed_sentinels: set[str] = field(default_factory=set)
    published_typical: float = 0.0
    failure: FailureScore = field(default_factory=FailureScore)
    last_recommendation_at: datetime | None = None


@dataclass
class FarmState:
    """A farm's scrape-log clock, kept by the processor of the scrape-log partition."""

    last_scrape_at: datetime | None = None


@dataclass
class ProcessorState:
    """Everything that must survive a restart."""

    sensors: dict[tuple[str, int, str], SensorState] = field(default_factory=dict)
    controllers: dict[tuple[str, int], ControllerState] = field(default_factory=dict)
    farms: dict[str, FarmState] = field(default_factory=dict)
    machines: dict[AlertKey, AlertMachine] = field(default_factory=dict)


class Processor:
    """Turns readings, house statuses and scrape logs into alerts, predictions and recommendations."""

    def __init__(self, config: ProcessorConfig | None = None, state: ProcessorState | None = None) -> None:
        self.config = config or ProcessorConfig()
        self.state = state or ProcessorState()
        # The maximum age of a parameter's latest value for use with a reading: two scrape intervals.
        self._max_age = duration_limit(2 * self.config.scrape_interval_seconds, exceeded=True)
        self._recommendation_interval = duration_limit(
            self.config.recommendation_interval_seconds, exceeded=False
        )

    def process(self, event: InputEvent) -> list[Output]:
        """Process one event and return the events it gives rise to, in order."""
        kind = type(event)
        if kind is DecodedReading or kind is Reading or isinstance(event, AnyReading):
            return self._reading(event)  # type: ignore[arg-type]
        if isinstance(event, HouseStatus):
            return self._house_status(event)
        return self._scrape_log(event)

    def warming_detectors(self) -> int:
        """Return how many sensors' detectors are still in their warm-up."""
        return sum(
            1 for sensor in self.state.sensors.values() if sensor.detector and sensor.detector.warming_up
        )

    # Readings

    def _reading(self, reading: AnyReading) -> list[Output]:
        # Every reading takes this path: fields are read once and nothing is built that a normal
        # reading does not need.
        farm_id, house, name = reading.farm_id, reading.house_number, reading.parameter
        # Parsed times carry pydantic's own tzinfo, which every comparison and subtraction calls back
        # into. Between times in the standard library's UTC they are plain arithmetic, several times faster.
        at = reading.observed_at
        if at.tzinfo is not UTC:
            at = at.astimezone(UTC)
        sensors = self.state.sensors
        sensor_key = (farm_id, house, name)
        sensor = sensors.get(sensor_key)
        if sensor is not None and at <= sensor.last_at:
            return []
        controller = self.state.controllers.get((farm_id, house)) or self._controller(farm_id, house)
        parameter = PARAMETERS.get(name)
        signal = parameter.signal if parameter else "unknown"
        instant = reading.period == "instant"
        if sensor is None:
            detector = detector_for(signal, name) if instant else None
            sensor = sensors[sensor_key] = SensorState(detector=detector, last_at=at)
        sensor.last_at = at

        latest = controller.latest
        previous = latest.get(name)
        latest[name] = (reading.value, at)
        if reading.target is not None:
            latest[name + TARGET_SUFFIX] = (reading.target, at)

        outputs: list[Output] = []
        out_of_range = reading.quality == "out_of_range"
        if out_of_range:
            controller.out_of_range_since_status += 1
        # A plain tuple finds an AlertKey of the same fields, for a fraction of building one.
        if out_of_range or (farm_id, house, name, OUT_OF_RANGE_RULE) in self.state.machines:
            condition = Condition(
                active=out_of_range,
                severity="critical",
                title=f"Sensor {name} out of range",
                message=f"{name} reported {reading.value} {reading.unit}, outside its physical range",
                value=reading.value,
            )
            outputs += self._alert(AlertKey(farm_id, house, name, OUT_OF_RANGE_RULE), condition, at)
        if not out_of_range and instant:
            outputs += self._detect(reading, controller, sensor, signal, at)
            if name in RULE_PARAMETERS:
                outputs += self._domain_rules(reading, controller, previous, at)
        return outputs

    def _detect(
        self, reading: AnyReading, controller: ControllerState, sensor: SensorState, signal: str, at: datetime
    ) -> list[Output]:
        detector = sensor.detector
        if detector is None:
            return []
        # A reading with a target is judged as its residual, so the flock's age is built in. A probe
        # is judged against the house average, so a drifting probe shows through the daily swing.
        reference = reading.target if signal in ("temperature", "humidity", "pressure") else None
        if reference is not None and reading.parameter == "temperature.average":
            # The controller holds the house between its heat set point and the hot reference (the
            # outside air on a hot afternoon), so only the distance past either edge is scored.
            outside = self._recent(controller, "temperature.outside", at)
            low, high = rules.controlled_band(reference, outside, self.config.limits)
            reference = min(max(reading.value, low), high)
        probe = reference is None and reading.parameter.startswith(PROBE_PREFIX)
        if probe:
            # The lookups of _recent, inlined: most readings of a house are probes, and a call costs more.
            latest, max_age = controller.latest, self._max_age
            outside_entry = latest.get("temperature.outside")
            if (
                outside_entry is not None
                and at - outside_entry[1] <= max_age
                and abs(reading.value - outside_entry[0]) < 0.05
            ):
                return []  # the outside probe: weather, judged by no detector
            average = latest.get("temperature.average")
            reference = average[0] if average is not None and at - average[1] <= max_age else None
        x = reading.value - reference if reference is not None else reading.value
        if type(detector) is CounterRateDetector:  # the exact type skips ABC's isinstance
            # Birds eat and drink by the light program: a meter is judged in lit hours, by local hour.
            lights = self._recent(controller, "device.lights.running", at)
            lit = not rules.is_night(reading.controller_time, lights, self.config.limits)
            detector.observe(lit, rules.local_hour(reading.controller_time))

        adapt_after = self.config.adapt_after_points
        timestamp = at.timestamp()
        score = detector.update(x, timestamp, adapt_after=adapt_after)
        if probe and reference is not None:
            # A probe that tracks its peers is judged by its residual, which hides the daily swing. A
            # probe that does not (one the controller leaves out of its average, a probe in another
            # room) is judged by its own level: whichever view has the smaller baseline spread.
            if sensor.own is None:
                sensor.own = detector_for("temperature", reading.parameter)
            own = sensor.own
            own_score = own.update(reading.value, timestamp, adapt_after=adapt_after) if own else 0.0
            if own is not None and not own.warming_up and _spread(own) < _spread(detector):
                score, detector, reference = own_score, own, None
        anomaly_fields = (reading.farm_id, reading.house_number, reading.parameter, ANOMALY_RULE)
        if score < 1.0 and anomaly_fields not in self.state.machines:
            return []
        key = AlertKey(reading.farm_id, reading.house_number, reading.parameter, ANOMALY_RULE)
        expected_fn = getattr(detector, "expected", None)
        expected = expected_fn() if callable(expected_fn) else None
        if expected is not None and reference is not None:
            expected += reference
        value: float | None = reading.value
        message = f"{reading.parameter} {reading.value:g} {reading.unit} is unusual for this sensor"
        evidence: dict[str, object] = {"score": round(score, 3), "detector": type(detector).__name__}
        if type(detector) is CounterRateDetector:
            # A counter is judged by its rate: value and expected are both per hour, the total is evidence.
            rate = detector.last_rate
            value = None if rate is None else round(rate, 3)
            rate_text = "unknown" if value is None else f"{value:g}"
            message = f"{reading.parameter} rate {rate_text} {reading.unit}/h is unusual for this hour"
            evidence["reading"] = reading.value
        condition = Condition(
            active=score >= 1.0,
            severity="critical" if score >= 2.0 else "warning",
            title=f"Unusual {reading.parameter}",
            message=message,
            value=value,
            expected=None if expected is None else round(float(expected), 3),
            evidence=evidence,
        )
        return self._alert(key, condition, at)

    def _domain_rules(
        self,
        reading: AnyReading,
        controller: ControllerState,
        previous: tuple[float, datetime] | None,
        at: datetime,
    ) -> list[Output]:
        limits = self.config.limits
        farm_id, house = reading.farm_id, reading.house_number
        parameter = reading.parameter
        outputs: list[Output] = []
        if parameter == "temperature.average":
            target = reading.target
            if target is None and reading.growth_day is not None:
                target = rules.target_for_age(reading.growth_day)
            if target is not None:
                outside = self._recent(controller, "temperature.outside", at)
                condition = rules.temperature_off_target(reading.value, target, limits, outside)
                outputs += self._judge(farm_id, house, parameter, "temperature_off_target", condition, at)
        elif parameter == "static_pressure":
            condition = rules.static_pressure_out_of_band(reading.value, reading.target, limits)
            outputs += self._judge(farm_id, house, parameter, "static_pressure_out_of_band", condition, at)
        elif parameter in ("co2", "ammonia"):
            condition = rules.gas_over_limit(parameter, reading.value, limits)
            outputs += self._judge(farm_id, house, parameter, f"{parameter}_over_limit", condition, at)
        if parameter in ("water.daily", "feed.daily"):
            outputs += self._water_rules(reading, controller, previous, at)
        if parameter in ("co2", "ammonia", "humidity.inside", "temperature.average"):
            outputs += self._recommend(reading, controller, at)
        return outputs

    def _water_rules(
        self,
        reading: AnyReading,
        controller: ControllerState,
        previous: tuple[float, datetime] | None,
        at: datetime,
    ) -> list[Output]:
        limits = self.config.limits
        outputs: list[Output] = []
        water = controller.latest.get("water.daily")
        feed = controller.latest.get("feed.daily")
        if water and feed and water[1].date() == feed[1].date():
            ratio = rules.water_to_feed_ratio(water[0], feed[0], limits)
            if ratio is not None:
                key = AlertKey(reading.farm_id, reading.house_number, "water.daily", "water_to_feed_ratio")
                outputs += self._alert(key, ratio, at)
        if reading.parameter == "water.daily" and previous is not None:
            elapsed = (at - previous[1]).total_seconds()
            if 0 < elapsed <= 2 * self.config.scrape_interval_seconds:
                increment = reading.value - previous[0] if reading.value >= previous[0] else reading.value
                rate = increment * 3600.0 / elapsed
                lights = controller.latest.get("device.lights.running")
                night = rules.is_night(reading.controller_time, lights[0] if lights else None, limits)
                condition = rules.water_at_night(rate, night, limits)
                key = AlertKey(reading.farm_id, reading.house_number, "water.daily", "water_at_night")
                outputs += self._alert(key, condition, at)
        return outputs

    def _recent(self, controller: ControllerState, name: str, at: datetime) -> float | None:
        """Return a parameter's latest value if it is at most two scrape intervals old."""
        entry = controller.latest.get(name)
        if entry is None or at - entry[1] > self._max_age:
            return None
        return entry[0]

    def _recommend(self, reading: AnyReading, controller: ControllerState, at: datetime) -> list[Output]:
        last = controller.last_recommendation_at
        if last is not None and at - last < self._recommendation_interval:
            return []
        # Four readings per house and cycle reach this point, so the temperature is looked up only
        # when the air is bad.
        reasons = rules.air_quality_reasons(
            self._recent(controller, "co2", at),
            self._recent(controller, "ammonia", at),
            self._recent(controller, "humidity.inside", at),
            self.config.limits,
        )
        if not reasons:
            return []
        target = self._recent(controller, "temperature.average" + TARGET_SUFFIX, at)
        evidence = rules.needs_more_ventilation(
            reasons,
            self._recent(controller, "temperature.average", at),
            target if target is not None else self._recent(controller, "temperature.target", at),
        )
        if evidence is None:
            return []
        controller.last_recommendation_at = at
        controller_id = controller_id_for(reading.farm_id, reading.house_number)
        action = "raise_minimum_ventilation"
        high = ", ".join(name for name in ("co2", "ammonia", "humidity") if name in evidence)
        return [
            Recommendation(
                event_id=deterministic_id("recommendation", controller_id, action, at.isoformat()),
                farm_id=reading.farm_id,
                house_number=reading.house_number,
                action=action,
                reason=f"{high} high while the house is at or above its target temperature",
                created_at=at,
                evidence=evidence,
            )
        ]

    # House status and scrape log

    def _house_status(self, status: HouseStatus) -> list[Output]:
        controller = self._controller(status.farm_id, status.house_number)
        # A frozen controller repeats its portal time, so statuses are distinguished by their fetch time.
        fetched = status.fetched_at
        if controller.last_status_fetched_at is not None and fetched <= controller.last_status_fetched_at:
            return []
        controller.last_status_fetched_at = fetched
        farm_id, house = status.farm_id, status.house_number
        connected = status.connection_status == "connected"
        fresh = controller.fresh_portal_at
        if connected and (fresh is None or status.observed_at > fresh):
            controller.fresh_portal_at = status.observed_at
            controller.fresh_fetched_at = fetched
            controller.cycles_since_fresh = 0
        else:
            controller.cycles_since_fresh += 1
        age = self._stale_age(controller, status)
        at = status.observed_at if controller.fresh_portal_at is None else controller.fresh_portal_at + age
        outputs: list[Output] = []

        outputs += self._alert(
            AlertKey(farm_id, house, "controller", "controller_offline"),
            Condition(
                active=not connected,
                severity="critical",
                title="Controller offline",
                message=(
                    f"house {house} is missing from the portal's house list"
                    if status.connection_status == "missing"
                    else f"house {house} controller is {status.connection_status}"
                ),
                evidence={"connection_status": status.connection_status},
            ),
            at,
        )
        # A house missing from the list has unknown alarms, so its alarm alert neither opens nor clears.
        if status.connection_status != "missing":
            outputs += self._alert(
                AlertKey(farm_id, house, "controller", "controller_alarm"),
                Condition(
                    active=bool(status.alarm_codes),
                    severity="warning",
                    title="Controller alarm",
                    message="controller alarms: " + ", ".join(status.alarm_codes),
                    evidence={"alarm_codes": list(status.alarm_codes)},
                ),
                at,
            )
        new_sentinels = self._sentinels(controller, status) if connected else set()
        for key in sorted(new_sentinels | controller.failed_sentinels):
            failing = key in new_sentinels
            outputs += self._alert(
                AlertKey(farm_id, house, key, "sensor_failed"),
                Condition(
                    active=failing,
                    severity="critical",
                    title=f"Sensor {key} failed",
                    message=f"{key} reports no value although it did before",
                ),
                at,
            )
        controller.failed_sentinels = new_sentinels

        missing = 0
        if connected:
            typical = controller.published_typical
            if typical > 0 and status.readings_published < 0.5 * typical:
                missing = 1
            controller.published_typical = max(status.readings_published, 0.9 * typical)
        cycle = CycleErrors(
            at=at,
            bad_quality=controller.out_of_range_since_status,
            missing_readings=missing,
            new_sentinels=len(new_sentinels),
            disconnected=0 if connected else 1,
            controller_alarms=len(status.alarm_codes),
        )
        controller.out_of_range_since_status = 0
        failure = controller.failure
        failure.window = self.config.failure_window_cycles
        failure.threshold = self.config.failure_threshold
        failure.min_cycles = self.config.failure_min_cycles
        verdict = failure.add(cycle)
        if verdict is not None:
            outputs.append(
                FailurePrediction(
                    event_id=deterministic_id("failure_prediction", status.controller_id, at.isoformat()),
                    farm_id=farm_id,
                    house_number=house,
                    controller_id=status.controller_id,
                    score=round(verdict.score, 4),
                    threshold=failure.threshold,
                    confidence=verdict.confidence,
                    window_start=verdict.window_start,
                    window_end=verdict.window_end,
                    predicted_at=at,
                    evidence=dict(verdict.evidence),
                )
            )
        outputs += self._staleness(status, controller, age, at)
        return outputs

    def _sentinels(self, controller: ControllerState, status: HouseStatus) -> set[str]:
        """Return the sentinel keys that carried a value before; keys never seen valid are not failures."""
        current = set(status.sentinel_keys)
        if controller.always_absent is None:
            controller.always_absent = set(current)
            return set()
        # A key that shows a value once is an installed sensor from then on.
        controller.always_absent &= current
        return current - controller.always_absent

    def _scrape_log(self, log: ScrapeLog) -> list[Output]:
        farm = self.state.farms.setdefault(log.farm_id, FarmState())
        at = log.finished_at
        if farm.last_scrape_at is not None and at <= farm.last_scrape_at:
            return []
        farm.last_scrape_at = at
        failed = log.outcome in ("failed", "auth_failed")
        needs_person = log.outcome == "auth_failed"
        condition = Condition(
            active=failed,
            severity="critical" if needs_person else "warning",
            title="Portal login rejected" if needs_person else "Scrape failed",
            message=(
                f"scrape of farm {log.farm_id} {log.outcome}"
                + (f": {log.error_kind}" if log.error_kind else "")
                + (" (update the portal credentials)" if needs_person else "")
            ),
            evidence={"outcome": log.outcome, "error_kind": log.error_kind, "cycle_id": log.cycle_id},
        )
        return self._alert(AlertKey(log.farm_id, None, "scraper", "scraper_failed"), condition, at)

    # Shared helpers

    def _controller(self, farm_id: str, house: int) -> ControllerState:
        key = (farm_id, house)
        controller = self.state.controllers.get(key)
        if controller is None:
            controller = ControllerState(farm_id=farm_id, house_number=house)
            self.state.controllers[key] = controller
        return controller

    def _stale_age(self, controller: ControllerState, status: HouseStatus) -> timedelta:
        """Return how long a controller's portal time has stood still: cycles or scraper time, the longer.

        Every scrape cycle publishes one status per house, so the cycles since the freshest one count
        the intervals even where the scraper's clock runs at another pace than the portal's (a
        simulator on an accelerated clock). The scraper time since covers cycles that came late.
        """
        if controller.fresh_fetched_at is None:
            return timedelta(0)
        elapsed = max(timedelta(0), status.fetched_at - controller.fresh_fetched_at)
        return max(
            elapsed, controller.cycles_since_fresh * timedelta(seconds=self.config.scrape_interval_seconds)
        )

    def _staleness(
        self, status: HouseStatus, controller: ControllerState, age: timedelta, at: datetime
    ) -> list[Output]:
        """Raise or resolve the stale alert of a controller from the age of its freshest portal time.

        The age is rounded to whole scrape intervals, so jitter in when a cycle starts does not
        delay the alert by a cycle. The alert is dated on the portal clock: the freshest portal time
        plus the age. A house that vanished from the portal's house list keeps aging through the
        scraper's "missing" statuses, one per cycle.
        """
        if controller.fresh_portal_at is None:
            return []
        seconds = age.total_seconds()
        intervals = math.floor(seconds / self.config.scrape_interval_seconds + 0.5)
        house = status.house_number
        condition = Condition(
            active=intervals >= self.config.stale_warning_intervals,
            severity="critical" if intervals >= self.config.stale_critical_intervals else "warning",
            title="Controller data stale",
            message=f"no new data from house {house} for {seconds / 60:.0f} minutes",
            value=round(seconds, 1),
            evidence={"last_portal_time": controller.fresh_portal_at.isoformat()},
        )
        return self._alert(AlertKey(status.farm_id, house, "controller", "controller_stale"), condition, at)

    def _judge(
        self, farm_id: str, house: int, subject: str, rule: str, condition: Condition, at: datetime
    ) -> list[Output]:
        """Step the alert machine of a rule's evaluation; a quiet rule without a machine builds no key."""
        if not condition.active and (farm_id, house, subject, rule) not in self.state.machines:
            return []
        return self._alert(AlertKey(farm_id, house, subject, rule), condition, at)

    def _alert(self, key: AlertKey, condition: Condition, at: datetime) -> list[Output]:
        machine = self.state.machines.get(key)
        if machine is None:
            if not condition.active:
                return []
            machine = AlertMachine()
            self.state.machines[key] = machine
        return list(machine.step(key, self.config.policy(key.rule), condition, at))


def duration_limit(seconds: float, *, exceeded: bool) -> timedelta:
    """Return the duration that splits durations as comparing their seconds with ``seconds`` does.

    With ``exceeded``, ``duration > limit`` is true exactly when ``duration.total_seconds() > seconds``,
    otherwise ``duration < limit`` is true exactly when ``duration.total_seconds() < seconds``, for any
    difference of two datetimes. A duration has whole microseconds and ``seconds`` need not, so the
    limit is found by counting microseconds, not by rounding. Infinite, NaN and out-of-range seconds
    give the extreme duration that keeps the comparison's result.
    """
    day_us = 86_400 * 10**6
    lowest, highest = timedelta.min, timedelta.max
    low_us = lowest.days * day_us
    high_us = highest.days * day_us + highest.seconds * 10**6 + highest.microseconds
    if math.isnan(seconds):
        return highest if exceeded else lowest  # a comparison with NaN is never true
    if seconds >= high_us / 10**6:
        return highest
    if seconds <= low_us / 10**6:
        return lowest

    def beyond(microseconds: int) -> bool:
        # Whether a duration of this many microseconds is on the far side of the limit.
        value = microseconds / 10**6
        return value > seconds if exceeded else value >= seconds

    # The last count of microseconds before the far side, stepped to from the rounded estimate.
    turn = math.floor(seconds * 10**6)
    while beyond(turn):
        turn -= 1
    while not beyond(turn + 1):
        turn += 1
    return timedelta(microseconds=turn if exceeded else turn + 1)


def _spread(detector: Detector) -> float:
    """Return a detector's baseline spread, or infinity for a detector without one."""
    spread = getattr(detector, "spread", None)
    return float(spread()) if callable(spread) else float("inf")
