"""Builders of valid events for the sink tests, with deterministic ids as the producers make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.events import (
    Alert,
    AlertState,
    FailurePrediction,
    HouseStatus,
    Reading,
    Recommendation,
    ScrapeLog,
    controller_id_for,
    deterministic_id,
)

BASE_TIME = datetime(2026, 5, 10, 6, 0, tzinfo=UTC)


def reading(
    farm_id: str, house: int, step: int, parameter: str = "temperature.average", value: float = 21.5
) -> Reading:
    """Return a reading of one house, ``step`` five-minute intervals after BASE_TIME."""
    controller = controller_id_for(farm_id, house)
    observed = BASE_TIME + timedelta(minutes=5 * step)
    return Reading(
        event_id=Reading.make_id(controller, parameter, "instant", observed),
        farm_id=farm_id,
        house_number=house,
        controller_id=controller,
        parameter=parameter,
        source_key="General.Average_Temperature",
        source_command="RNBL_GetCommandData/0",
        value=value + step * 0.01,
        unit="degC",
        target=22.0,
        growth_day=21,
        observed_at=observed,
        fetched_at=observed + timedelta(seconds=40),
    )


def house_status(farm_id: str, house: int, step: int, status: str = "connected") -> HouseStatus:
    """Return a house status of one scrape cycle."""
    controller = controller_id_for(farm_id, house)
    observed = BASE_TIME + timedelta(minutes=5 * step)
    return HouseStatus(
        event_id=HouseStatus.make_id(controller, observed),
        farm_id=farm_id,
        house_number=house,
        controller_id=controller,
        connection_status=status,  # type: ignore[arg-type]
        growth_day=21,
        controller_time="06:00",
        house_mode=1,
        siren_on=False,
        alarm_codes=["HIGH TEMP"] if step % 2 else [],
        readings_published=60,
        sentinel_keys=[],
        observed_at=observed,
        fetched_at=observed + timedelta(seconds=40),
    )


def alert(
    farm_id: str, house: int, sequence: int, state: AlertState, subject: str = "temperature.average"
) -> Alert:
    """Return one transition of an alert episode opened at BASE_TIME."""
    alert_id = Alert.make_alert_id(farm_id, house, subject, "temperature_off_target", BASE_TIME)
    return Alert(
        event_id=Alert.make_event_id(alert_id, sequence),
        alert_id=alert_id,
        sequence=sequence,
        state=state,
        severity="critical" if sequence else "warning",
        rule="temperature_off_target",
        farm_id=farm_id,
        house_number=house,
        subject=subject,
        title=f"Temperature off target in house {house}",
        message=f"transition {sequence}",
        value=29.0 + sequence,
        expected=22.0,
        opened_at=BASE_TIME,
        event_time=BASE_TIME + timedelta(minutes=10 * sequence),
        resolved_at=BASE_TIME + timedelta(minutes=10 * sequence) if state == "resolved" else None,
        evidence={"score": 0.9, "sequence": sequence},
    )


def failure_prediction(farm_id: str, house: int, step: int) -> FailurePrediction:
    """Return a failure prediction for one house."""
    window_end = BASE_TIME + timedelta(hours=step)
    return FailurePrediction(
        event_id=deterministic_id("failure_prediction", farm_id, house, window_end.isoformat()),
        farm_id=farm_id,
        house_number=house,
        controller_id=controller_id_for(farm_id, house),
        score=0.4,
        threshold=0.3,
        confidence=0.8,
        window_start=window_end - timedelta(hours=6),
        window_end=window_end,
        predicted_at=window_end,
        evidence={"sentinel": 5},
    )


def recommendation(farm_id: str, house: int, step: int) -> Recommendation:
    """Return a recommendation for one house."""
    created = BASE_TIME + timedelta(hours=step)
    return Recommendation(
        event_id=deterministic_id("recommendation", farm_id, house, created.isoformat()),
        farm_id=farm_id,
        house_number=house,
        action="raise_minimum_ventilation",
        reason="CO2 above 3000 ppm for 30 minutes",
        created_at=created,
        evidence={"co2_ppm": 3300},
    )


def scrape_log(farm_id: str, cycle: int) -> ScrapeLog:
    """Return the scrape log of one cycle."""
    cycle_id = f"cycle-{cycle}"
    started = BASE_TIME + timedelta(minutes=5 * cycle)
    return ScrapeLog(
        event_id=ScrapeLog.make_id(farm_id, cycle_id),
        farm_id=farm_id,
        cycle_id=cycle_id,
        outcome="success",
        started_at=started,
        finished_at=started + timedelta(seconds=12),
        duration_seconds=12.0,
        houses_total=2,
        houses_connected=2,
        readings_published=120,
        dead_letters=0,
        requests=8,
        retries=0,
    )
