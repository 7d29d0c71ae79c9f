"""The scrape service: one coordinator per farm, all farms scraped concurrently each cycle.

Per farm and cycle, the coordinator logs in when needed and fetches ``GetSiteControllersInfo`` for
all houses. The first time (and again after the account's settings change) it reads the account's
units from the login's ``FarmUser``, or from ``JsGlobals_GetJsGlobals`` when ``FarmUser`` states
none. Then it fetches ``RNBL_GetCommandData`` command 0 for each connected house. Once a day, after
the configured local time, it also fetches the history commands 35, 40, 41 and 43 of each connected
house. A house that is not connected yields only its HouseStatus. A connected house whose command 0
failed yields its site readings but no HouseStatus, since its sentinel keys would be incomplete, and
makes the farm's ScrapeLog partial. A house that an earlier cycle listed and the latest house list
lacks gets a HouseStatus with connection status ``missing`` each cycle until the portal lists it
again; with a listed-houses file (:mod:`producers.listed_houses`) that holds across restarts too.
Every farm gets one ScrapeLog per cycle. A farm whose credentials
were rejected is not polled again until its credentials change in the farms file or the process
restarts. Meanwhile it publishes an ``auth_failed`` ScrapeLog each cycle.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Protocol

from producers import mapping
from producers.capture import units_of_js_globals
from producers.client import PortalClient, RetryPolicy
from producers.config import ScraperSettings
from producers.exceptions import (
    CredentialsRejectedError,
    PayloadError,
    PortalError,
    UnitError,
)
from producers.farms import FarmAccount, FarmsFileError
from producers.listed_houses import ListedHousesFile, account_key
from producers.metrics import ScraperMetrics
from producers.parser import (
    SITE_INFO_COMMAND,
    HouseResult,
    ParseContext,
    build_command,
    build_history,
    build_site_info,
    command_name,
    dead_letter,
    observed_time,
)
from producers.site_info import read_site_info
from producers.tables import CommandData, read_command_data
from producers.units import NO_UNITS, UnitSettings
from schemas.events import DeadLetter, HouseStatus, Reading, ScrapeLog

logger = logging.getLogger(__name__)


class Publisher(Protocol):
    """The destination of the scraper's events (EventPublisher, or a recorder in tests)."""

    def reading(self, event: Reading | HouseStatus) -> None: ...

    def scrape_log(self, event: ScrapeLog) -> None: ...

    def dead_letter(self, event: DeadLetter) -> None: ...

    def flush(self) -> int: ...


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass
class FarmOptions:
    """Per-farm behaviour taken from the settings."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    history_fetch_time: clock_time = clock_time(0, 30)

    @classmethod
    def from_settings(cls, settings: ScraperSettings) -> FarmOptions:
        """Build from the scraper settings."""
        return cls(
            retry=RetryPolicy(
                settings.max_retries, settings.backoff_base_seconds, settings.backoff_max_seconds
            ),
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            history_fetch_time=settings.history_fetch_time,
        )


@dataclass
class _Tally:
    readings: int = 0
    dead_letters: int = 0
    failed_houses: list[int] = field(default_factory=list)
    last_error: PortalError | None = None


class FarmCoordinator:
    """Scrapes one farm's account; one cycle at a time."""

    def __init__(
        self,
        account: FarmAccount,
        *,
        publisher: Publisher,
        metrics: ScraperMetrics,
        options: FarmOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        listed_houses: ListedHousesFile | None = None,
    ) -> None:
        self.publisher = publisher
        self.metrics = metrics
        self.options = options or FarmOptions()
        self.clock = clock
        self.sleep = sleep
        self.account = account
        self.client = self._new_client()
        self.units: UnitSettings | None = None
        self.rejected_fingerprint: str | None = None
        self.rejected_message: str | None = None
        self._history_done: dict[date, set[tuple[int, int]]] = {}
        # House numbers the portal listed in earlier cycles, also of earlier processes with the file.
        self._listed_file = listed_houses
        self._listed_houses = self._houses_listed_before()
        self._listed_saved = True

    def _new_client(self) -> PortalClient:
        return PortalClient(
            self.account,
            metrics=self.metrics,
            retry=self.options.retry,
            connect_timeout=self.options.connect_timeout,
            read_timeout=self.options.read_timeout,
            sleep=self.sleep,
        )

    def _account_key(self) -> str:
        return account_key(self.account.portal_url, self.account.username)

    def _houses_listed_before(self) -> set[int]:
        if self._listed_file is None:
            return set()
        return self._listed_file.houses(self.farm_id, self._account_key())

    @property
    def farm_id(self) -> str:
        """Return the farm's id."""
        return self.account.farm_id

    @property
    def polling_stopped(self) -> bool:
        """Return True while the farm's current credentials are known to be rejected."""
        return self.rejected_fingerprint == self.account.credentials_fingerprint()

    def update_account(self, account: FarmAccount) -> None:
        """Take new account settings; changed credentials start a new session and resume polling."""
        if (
            account.credentials_fingerprint() == self.account.credentials_fingerprint()
            and account == self.account
        ):
            return
        self.client.close()
        another_account = (
            account.username != self.account.username or account.portal_url != self.account.portal_url
        )
        self.account = account
        if another_account:
            # Another portal account has its own house list, kept apart in the file.
            self.metrics.houses_missing.labels(self.farm_id).set(0)
            self._listed_houses = self._houses_listed_before()
            self._listed_saved = True
        self.client = self._new_client()
        self.units = None
        if not self.polling_stopped and self.rejected_fingerprint is not None:
            logger.info("credentials changed; polling resumes", extra={"farm": self.farm_id})
            self.rejected_fingerprint = None

    def close(self) -> None:
        """Close the portal session."""
        self.client.close()

    def scrape(self, cycle_id: str) -> ScrapeLog:
        """Scrape the farm once, publish its events and its ScrapeLog, and return the ScrapeLog."""
        started = self.clock()
        requests_before, retries_before = self.client.requests_made, self.client.retries_made
        tally = _Tally()
        houses_total = houses_connected = 0
        outcome = "success"
        error: PortalError | None = None

        if self.polling_stopped:
            log = self._scrape_log(
                cycle_id,
                started,
                "auth_failed",
                0,
                0,
                tally,
                0,
                0,
                error_kind="credentials",
                error_message=self.rejected_message,
            )
            self.publisher.scrape_log(log)
            return log

        try:
            houses_total, houses_connected = self._scrape_farm(tally)
            if tally.failed_houses:
                outcome = "partial"
                error = tally.last_error
        except CredentialsRejectedError as rejected:
            outcome, error = "auth_failed", rejected
            self.rejected_fingerprint = self.account.credentials_fingerprint()
            self.rejected_message = f"{rejected}; polling stopped until the credentials change"
            logger.error("credentials rejected; polling of this farm stops", extra={"farm": self.farm_id})
        except PayloadError as payload_error:
            outcome, error = "failed", payload_error
            self._dead_letter(payload_error, payload_error.command or SITE_INFO_COMMAND, None, tally)
            logger.error("portal payload rejected", extra={"farm": self.farm_id, "error": str(payload_error)})
        except PortalError as portal_error:
            outcome, error = "failed", portal_error
            logger.error("farm scrape failed", extra={"farm": self.farm_id, "error": str(portal_error)})
        except Exception as unexpected:
            # One farm's bug must not stop the other farms: log it and report the farm as failed.
            logger.exception("farm scrape crashed", extra={"farm": self.farm_id})
            outcome, error = (
                "failed",
                PortalError(f"internal error: {type(unexpected).__name__}: {unexpected}"),
            )
            error.kind = "internal"

        log = self._scrape_log(
            cycle_id,
            started,
            outcome,
            houses_total,
            houses_connected,
            tally,
            self.client.requests_made - requests_before,
            self.client.retries_made - retries_before,
            error_kind=error.kind if error else None,
            error_message=(self.rejected_message if outcome == "auth_failed" else str(error))
            if error
            else None,
        )
        self.publisher.scrape_log(log)
        self.metrics.farm_duration.labels(self.farm_id).observe(log.duration_seconds)
        if outcome in ("success", "partial"):
            self.metrics.last_success.labels(self.farm_id).set(log.finished_at.timestamp())
        return log

    def _scrape_log(
        self,
        cycle_id: str,
        started: datetime,
        outcome: str,
        houses_total: int,
        houses_connected: int,
        tally: _Tally,
        requests_made: int,
        retries: int,
        *,
        error_kind: str | None,
        error_message: str | None,
    ) -> ScrapeLog:
        finished = max(self.clock(), started)
        return ScrapeLog(
            event_id=ScrapeLog.make_id(self.farm_id, cycle_id),
            farm_id=self.farm_id,
            cycle_id=cycle_id,
            outcome=outcome,  # type: ignore[arg-type]
            started_at=started,
            finished_at=finished,
            duration_seconds=(finished - started).total_seconds(),
            houses_total=houses_total,
            houses_connected=houses_connected,
            readings_published=tally.readings,
            dead_letters=tally.dead_letters,
            requests=requests_made,
            retries=retries,
            error_kind=error_kind,
            error_message=error_message,
        )

    def _dead_letter(self, error: PayloadError, command: str, house: int | None, tally: _Tally) -> None:
        context = self._context(self.clock(), None)
        event = dead_letter(
            context, error, command=command, house_number=house, source_key=error.source_key, raw=error.raw
        )
        self.publisher.dead_letter(event)
        tally.dead_letters += 1

    def _context(self, fetched_at: datetime, observed_at: datetime | None) -> ParseContext:
        return ParseContext(
            farm_id=self.farm_id,
            timezone=self.account.zone,
            fetched_at=fetched_at,
            units=self.units or NO_UNITS,
            observed_at=observed_at,
        )

    def _ensure_units(self, tally: _Tally) -> None:
        if self.units is not None:
            return
        try:
            # The login's FarmUser has the UserInfo shape; when it states the units, JsGlobals is not needed.
            self.units = UnitSettings.from_user_info(self.client.login_user_info or {})
            logger.info("account units read", extra={"farm": self.farm_id, "units": self.units.describe()})
            return
        except UnitError:
            pass
        response = self.client.js_globals()
        units = units_of_js_globals(response.payload)
        if units is None:
            error = UnitError("JsGlobals_GetJsGlobals has no usable UserInfo unit settings", response.raw)
            self._dead_letter(error, "JsGlobals_GetJsGlobals", None, tally)
            units = NO_UNITS
        self.units = units
        logger.info("account units read", extra={"farm": self.farm_id, "units": units.describe()})

    def _scrape_farm(self, tally: _Tally) -> tuple[int, int]:
        fetched_at = self.clock()
        response = self.client.site_controllers_info()
        self._ensure_units(tally)  # after the first call, so the login's FarmUser is known
        try:
            site = read_site_info(response.payload)
        except PayloadError as error:
            error.raw, error.command = response.raw, SITE_INFO_COMMAND
            raise
        context = self._context(fetched_at, site.last_update)
        houses = build_site_info(site, context)
        connected = [house for house in houses if house.connection_status == "connected"]

        for house in houses:
            if house.connection_status != "connected":
                self._publish_house(house, context, tally)
                continue
            result = self._scrape_house(house, context, tally)
            if result is None:
                # Without command 0 the status would list only the comparison's sentinel keys, and the
                # agents would read every key it lacks as a sensor that failed, so none is published.
                self._publish_house(house, context, tally, with_status=False)
            else:
                self._publish_house(result, context, tally)

        self._publish_missing(houses, context)
        self._scrape_history(connected, site.last_update, tally)
        return len(houses), len(connected)

    def _publish_missing(self, houses: list[HouseResult], context: ParseContext) -> None:
        """Publish a ``missing`` status for each house listed in an earlier cycle but not in this one."""
        listed = {house.house_number for house in houses}
        missing = sorted(self._listed_houses - listed)
        grown = not listed <= self._listed_houses
        self._listed_houses |= listed
        if self._listed_file is not None and (grown or not self._listed_saved):
            # A failed write is tried again each cycle until the file contains the list.
            self._listed_saved = self._listed_file.save(
                self.farm_id, self._account_key(), self._listed_houses
            )
        self.metrics.houses_missing.labels(self.farm_id).set(len(missing))
        for number in missing:
            logger.warning(
                "house missing from the portal's house list",
                extra={"farm": self.farm_id, "house": number},
            )
            result = HouseResult(
                house_number=number,
                command=SITE_INFO_COMMAND,
                observed_at=observed_time(context, None),
                connection_status="missing",
            )
            self.publisher.reading(result.status(context))
            self.metrics.missing_statuses.labels(self.farm_id).inc()

    def _fetch_command(self, command_id: int, house_number: int) -> CommandData:
        """Fetch and read one command of one house; a PayloadError carries the raw body and the ids."""
        response = self.client.command_data(command_id, house_number)
        try:
            return read_command_data(response.payload)
        except PayloadError as error:
            error.raw = error.raw or response.raw
            raise

    def _scrape_house(
        self, site_house: HouseResult, context: ParseContext, tally: _Tally
    ) -> HouseResult | None:
        """Return the house's command-0 events merged with its site events, or None when command 0 failed."""
        number = site_house.house_number
        try:
            data = self._fetch_command(0, number)
        except PayloadError as error:
            logger.error(
                "command 0 payload rejected",
                extra={"farm": self.farm_id, "house": number, "error": str(error)},
            )
            self._dead_letter(error, command_name(0), number, tally)
            tally.failed_houses.append(number)
            tally.last_error = error
            return None
        except CredentialsRejectedError:
            raise
        except PortalError as error:
            logger.warning(
                "house scrape failed", extra={"farm": self.farm_id, "house": number, "error": str(error)}
            )
            tally.failed_houses.append(number)
            tally.last_error = error
            return None

        result = build_command(data, command_id=0, house_number=number, context=context)
        result.merge(site_house)
        result.connection_status = site_house.connection_status
        result.alarm_codes = list(site_house.alarm_codes)
        return result

    def _publish_house(
        self, result: HouseResult, context: ParseContext, tally: _Tally, *, with_status: bool = True
    ) -> None:
        for reading in result.readings:
            self.publisher.reading(reading)
        if with_status:
            self.publisher.reading(result.status(context))
        for letter in result.dead_letters:
            self.publisher.dead_letter(letter)
        tally.readings += len(result.readings)
        tally.dead_letters += len(result.dead_letters)
        if result.unmapped_keys:
            self.metrics.unmapped_keys.labels(self.farm_id).inc(len(result.unmapped_keys))

    def _scrape_history(
        self, connected: list[HouseResult], portal_time: datetime | None, tally: _Tally
    ) -> None:
        # The portal's clock (LastUpdateDT) decides the day, so an accelerated portal clock works too.
        now_local = (portal_time or self.clock()).astimezone(self.account.zone)
        if now_local.time() < self.options.history_fetch_time:
            return
        today = now_local.date()
        done = self._history_done.setdefault(today, set())
        for stale in [day for day in self._history_done if day != today]:
            del self._history_done[stale]

        for house in connected:
            for command_id in mapping.HISTORY_COMMANDS:
                if (house.house_number, command_id) in done:
                    continue
                try:
                    data = self._fetch_command(command_id, house.house_number)
                except PayloadError as error:
                    logger.error(
                        "history payload rejected",
                        extra={"farm": self.farm_id, "house": house.house_number, "command": command_id},
                    )
                    self._dead_letter(error, command_name(command_id), house.house_number, tally)
                    done.add((house.house_number, command_id))
                    continue
                except PortalError as error:
                    if isinstance(error, CredentialsRejectedError):
                        raise
                    logger.warning(
                        "history fetch failed; retried next cycle",
                        extra={
                            "farm": self.farm_id,
                            "house": house.house_number,
                            "command": command_id,
                            "error": str(error),
                        },
                    )
                    continue
                result = build_history(
                    data.history,
                    command_id=command_id,
                    house_number=house.house_number,
                    context=self._context(self.clock(), portal_time),
                    current_growth_day=house.growth_day,
                    include_current_day=False,
                )
                for reading in result.readings:
                    self.publisher.reading(reading)
                for letter in result.dead_letters:
                    self.publisher.dead_letter(letter)
                tally.readings += len(result.readings)
                tally.dead_letters += len(result.dead_letters)
                done.add((house.house_number, command_id))


class Scraper:
    """Runs scrape cycles over all configured farms on a fixed interval."""

    def __init__(
        self,
        settings: ScraperSettings,
        *,
        publisher: Publisher,
        metrics: ScraperMetrics,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.sleep = sleep
        self.options = FarmOptions.from_settings(settings)
        self.listed_houses = (
            ListedHousesFile(settings.listed_houses_file) if settings.listed_houses_file is not None else None
        )
        self.coordinators: dict[str, FarmCoordinator] = {}
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_farms, thread_name_prefix="scrape"
        )

    def refresh_accounts(self) -> None:
        """Read the accounts again; on an invalid farms file keep the farms already known."""
        try:
            accounts = self.settings.accounts()
        except FarmsFileError as error:
            if not self.coordinators:
                raise
            logger.error("farms file invalid; keeping the previous farms", extra={"error": str(error)})
            return
        wanted = {account.farm_id: account for account in accounts}
        for farm_id in list(self.coordinators):
            if farm_id not in wanted:
                self.coordinators.pop(farm_id).close()
                logger.info("farm removed from the farms file", extra={"farm": farm_id})
        for farm_id, account in wanted.items():
            if farm_id in self.coordinators:
                self.coordinators[farm_id].update_account(account)
            else:
                self.coordinators[farm_id] = FarmCoordinator(
                    account,
                    publisher=self.publisher,
                    metrics=self.metrics,
                    options=self.options,
                    clock=self.clock,
                    sleep=self._retry_sleep,
                    listed_houses=self.listed_houses,
                )

    def _retry_sleep(self, delay: float) -> None:
        """Wait before a retry, or not at all once a stop is requested, so the cycle ends promptly.

        Without this, a stop requested while the portal is down waited for every remaining call's
        backoff, which a service manager's stop timeout cuts short with SIGKILL.
        """
        if self._stop.is_set():
            return
        if self.sleep is time.sleep:
            self._stop.wait(delay)
        else:
            self.sleep(delay)

    def run_cycle(self) -> list[ScrapeLog]:
        """Scrape every farm once, concurrently, then flush the producer; return the scrape logs."""
        self.refresh_accounts()
        cycle_id = str(uuid.uuid4())
        started = time.monotonic()
        futures = [
            self._pool.submit(coordinator.scrape, cycle_id) for coordinator in self.coordinators.values()
        ]
        logs = [future.result() for future in futures]
        undelivered = self.publisher.flush()
        duration = time.monotonic() - started
        self.metrics.cycle_duration.observe(duration)
        logger.info(
            "scrape cycle finished",
            extra={
                "cycle": cycle_id,
                "farms": len(logs),
                "failed_farms": sum(log.outcome in ("failed", "auth_failed") for log in logs),
                "readings": sum(log.readings_published for log in logs),
                "undelivered": undelivered,
                "duration_s": round(duration, 2),
            },
        )
        return logs

    def run(self, stop: threading.Event, *, once: bool = False) -> list[ScrapeLog]:
        """Run cycles every interval until ``stop`` is set, or one with ``once``; return the last logs.

        A stop during a cycle skips the remaining retry waits, so the cycle ends after the calls
        already under way.
        """
        self._stop = stop
        logs: list[ScrapeLog] = []
        while not stop.is_set():
            started = time.monotonic()
            logs = self.run_cycle()
            if once:
                break
            stop.wait(max(0.0, self.settings.scrape_interval_seconds - (time.monotonic() - started)))
        return logs

    def close(self) -> None:
        """Stop the thread pool and close every portal session."""
        self._pool.shutdown(wait=True)
        for coordinator in self.coordinators.values():
            coordinator.close()
