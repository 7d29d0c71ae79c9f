"""The notifier service: consume the alerts topic, deliver, record, then commit the offset.

Delivery is at least once from Kafka's side: an offset is committed only after every channel of the
message has a row in the delivery log (delivered, failed or scheduled for retry), and the log turns
redelivered messages into skips. Messages that are not valid Alert events go to the dead-letter
topic with their raw bytes before their offset is committed.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import ValidationError

from migrations import MigrationError, apply_migrations
from notifier.channels import Channel, build_channels
from notifier.config import LoadedConfig, NotifierSettings
from notifier.dispatcher import Clock, Dispatcher, utc_now
from notifier.exceptions import NotifierError
from notifier.metrics import NotifierMetrics
from notifier.retry import RetryPolicy
from notifier.store import DeliveryStore
from schemas.events import Alert, DeadLetter, payload_digest
from schemas.topics import ALERTS, DEAD_LETTER, topic_name

logger = logging.getLogger(__name__)

_POLL_SECONDS = 1.0
_DATABASE_WAIT_SECONDS = 30.0
_FLUSH_SECONDS = 10.0
_MAX_ERROR_BACKOFF_SECONDS = 30.0
_STOP_JOIN_SECONDS = 60.0

# Errors after which the same message is processed again instead of being skipped.
_RECOVERABLE = (psycopg.Error, PoolTimeout, KafkaException, NotifierError)


class NotifierService:
    """One notifier process: a Kafka consumer thread (the caller's) and a retry-queue thread."""

    def __init__(
        self,
        settings: NotifierSettings,
        config: LoadedConfig,
        metrics: NotifierMetrics,
        *,
        channels: Mapping[str, Channel] | None = None,
        clock: Clock = utc_now,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._config = config
        self._metrics = metrics
        self._channels = channels if channels is not None else build_channels(config)
        self._clock = clock
        self._draw = draw
        self.alerts_topic = topic_name(ALERTS, settings.topic_prefix)
        self.dead_letter_topic = topic_name(DEAD_LETTER, settings.topic_prefix)
        self._last_consumer_error: int | None = None

    def run(self, stop: threading.Event) -> None:
        """Consume and deliver until ``stop`` is set; raise NotifierError when a dependency is unusable."""
        pool = self._open_pool()
        try:
            self._migrate(pool)
            dispatcher = Dispatcher(
                channels=self._channels,
                rules=self._config.routing.rules,
                store=DeliveryStore(pool),
                policy=RetryPolicy.from_config(self._config.routing.retry),
                lease_seconds=self._config.routing.retry.lease_seconds,
                metrics=self._metrics,
                clock=self._clock,
                draw=self._draw,
            )
            self._consume(dispatcher, stop)
        finally:
            pool.close()

    def _open_pool(self) -> ConnectionPool[Any]:
        pool: ConnectionPool[Any] = ConnectionPool(
            self._settings.database_url,
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"autocommit": True},
            name="notifier",
        )
        try:
            pool.open(wait=True, timeout=_DATABASE_WAIT_SECONDS)
        except PoolTimeout:
            pool.close()
            raise NotifierError(
                "cannot connect to PostgreSQL at FARMSTREAM_DATABASE_URL within"
                f" {_DATABASE_WAIT_SECONDS:.0f} s: start the database (farmstream stack up)"
                " or fix the variable"
            ) from None
        return pool

    def _migrate(self, pool: ConnectionPool[Any]) -> None:
        try:
            with pool.connection() as connection:
                applied = apply_migrations(connection)
        except MigrationError as error:
            raise NotifierError(f"cannot prepare the database: {error}") from error
        if applied:
            logger.info("database migrations applied", extra={"versions": applied})

    def _consume(self, dispatcher: Dispatcher, stop: threading.Event) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self._settings.kafka_bootstrap,
                "group.id": self._settings.notifier_group_id,
                "client.id": "farmstream-notifier",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
            }
        )
        producer = Producer(
            {
                "bootstrap.servers": self._settings.kafka_bootstrap,
                "client.id": "farmstream-notifier-dead-letters",
                "enable.idempotence": True,
                "acks": "all",
            }
        )
        retry_worker = threading.Thread(
            target=self._work_retry_queue, args=(dispatcher, stop), name="notifier-retry-queue", daemon=True
        )
        consumer.subscribe([self.alerts_topic], on_assign=_log_assignment, on_revoke=_log_revocation)
        retry_worker.start()
        logger.info(
            "notifier started",
            extra={
                "topic": self.alerts_topic,
                "group": self._settings.notifier_group_id,
                "channels": ",".join(sorted(self._channels)),
                "rules": len(self._config.routing.rules),
            },
        )
        try:
            while not stop.is_set():
                message = consumer.poll(_POLL_SECONDS)
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    self._log_consumer_error(error)
                    continue
                self._last_consumer_error = None
                if self._process_until_done(message, dispatcher, producer, stop):
                    self._commit(consumer, message)
        finally:
            stop.set()
            retry_worker.join(_STOP_JOIN_SECONDS)
            consumer.close()
            remaining = producer.flush(_FLUSH_SECONDS)
            if remaining:
                logger.warning("dead letters not confirmed at shutdown", extra={"count": remaining})
            logger.info("notifier stopped", extra={"topic": self.alerts_topic})

    def _process_until_done(
        self, message: Message, dispatcher: Dispatcher, producer: Producer, stop: threading.Event
    ) -> bool:
        """Process one message, retrying while the database or the broker fails; False when stopped first."""
        delay = 1.0
        while True:
            try:
                self._process(message, dispatcher, producer)
                return True
            except _RECOVERABLE as error:
                self._metrics.processing_errors.labels(type(error).__name__).inc()
                logger.warning(
                    "processing failed, trying the message again",
                    extra={**_position(message), "retry_in_seconds": delay, "error": str(error)},
                )
            if stop.wait(delay):
                return False
            delay = min(_MAX_ERROR_BACKOFF_SECONDS, delay * 2)

    def _process(self, message: Message, dispatcher: Dispatcher, producer: Producer) -> None:
        raw = message.value() or b""
        try:
            alert = Alert.model_validate_json(raw)
        except ValidationError as error:
            self._dead_letter(message, raw, error, producer)
            return
        dispatcher.dispatch(alert)

    def _dead_letter(self, message: Message, raw: bytes, error: ValidationError, producer: Producer) -> None:
        details = error.errors()
        error_type = (
            "InvalidJSON" if any(item["type"] == "json_invalid" for item in details) else "InvalidAlert"
        )
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'message'}: {item['msg']}"
            for item in details[:5]
        )
        reason = f"not a valid Alert event: {problems}"[:1000]
        farm_id, house_number = _identify(raw)
        try:
            payload, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            payload, encoding = base64.b64encode(raw).decode("ascii"), "base64"

        position = f"{message.topic()}/{message.partition()}/{message.offset()}/".encode()
        letter = DeadLetter(
            event_id=payload_digest(b"notifier/" + position + raw),
            stage="notifier",
            reason=reason,
            error_type=error_type,
            farm_id=farm_id,
            house_number=house_number,
            source_topic=message.topic(),
            source_partition=message.partition(),
            source_offset=message.offset(),
            raw_encoding=encoding,  # type: ignore[arg-type]
            raw_payload=payload,
            created_at=self._clock(),
        )
        failures: list[KafkaError] = []

        def on_delivery(delivery_error: KafkaError | None, _message: Message) -> None:
            if delivery_error is not None:
                failures.append(delivery_error)

        key = (farm_id or "notifier").encode()
        producer.produce(self.dead_letter_topic, value=letter.to_bytes(), key=key, on_delivery=on_delivery)
        if producer.flush(_FLUSH_SECONDS) or failures:
            cause = failures[0].str() if failures else f"not confirmed within {_FLUSH_SECONDS:.0f} s"
            raise NotifierError(f"dead letter to {self.dead_letter_topic} failed: {cause}")
        self._metrics.dead_letters.labels(error_type).inc()
        logger.warning(
            "malformed alert message dead-lettered",
            extra={**_position(message), "farm": farm_id, "error_type": error_type, "reason": reason},
        )

    def _commit(self, consumer: Consumer, message: Message) -> None:
        try:
            consumer.commit(message=message, asynchronous=False)
        except KafkaException as error:
            # The message comes back after a rebalance; the delivery log turns it into skips.
            logger.warning("offset commit failed", extra={**_position(message), "error": str(error)})

    def _work_retry_queue(self, dispatcher: Dispatcher, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                worked = dispatcher.process_due()
            except (psycopg.Error, PoolTimeout) as error:
                self._metrics.processing_errors.labels(type(error).__name__).inc()
                logger.warning("retry queue cannot reach the database", extra={"error": str(error)})
                stop.wait(_MAX_ERROR_BACKOFF_SECONDS / 6)
                continue
            except Exception:
                logger.exception("retry queue failed, continuing")
                stop.wait(_MAX_ERROR_BACKOFF_SECONDS / 6)
                continue
            if not worked:
                stop.wait(self._settings.notifier_retry_poll_seconds)

    def _log_consumer_error(self, error: KafkaError) -> None:
        if error.fatal():
            raise NotifierError(f"Kafka consumer failed for good: {error.str()}: restart the notifier")
        # Repeats of one error (a topic that does not exist yet) are logged once until a message arrives.
        if error.code() != self._last_consumer_error:
            logger.warning("Kafka consumer error", extra={"topic": self.alerts_topic, "error": error.str()})
        self._last_consumer_error = error.code()


def _identify(raw: bytes) -> tuple[str | None, int | None]:
    """Return the farm and house of a malformed message when its JSON still names them."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    farm_id = document.get("farm_id")
    house_number = document.get("house_number")
    return (
        farm_id if isinstance(farm_id, str) and farm_id else None,
        house_number if isinstance(house_number, int) and not isinstance(house_number, bool) else None,
    )


def _position(message: Message) -> dict[str, object]:
    return {"topic": message.topic(), "partition": message.partition(), "offset": message.offset()}


def _log_assignment(_consumer: Consumer, partitions: list[TopicPartition]) -> None:
    logger.info("partitions assigned", extra={"partitions": ",".join(str(p.partition) for p in partitions)})


def _log_revocation(_consumer: Consumer, partitions: list[TopicPartition]) -> None:
    logger.info("partitions revoked", extra={"partitions": ",".join(str(p.partition) for p in partitions)})
