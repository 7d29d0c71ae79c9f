"""Write batches of decoded records in transactions, and isolate the records the database rejects.

A batch is written in one transaction. The database may reject it because of the content of some
row, such as a constraint violation or a value out of range. Then the batch is split in halves,
each half is written in its own transaction, and the splitting goes on down to single records,
which are returned as rejected. Any other database failure raises :class:`DatabaseUnavailable`
and the caller retries the whole batch. The halves already committed are then written again,
which the idempotent writes make harmless.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from sinks.config import WriteMode
from sinks.exceptions import DatabaseUnavailable, RowRejected
from sinks.records import DecodedRecord, RejectedRecord
from sinks.writers import write_events

logger = logging.getLogger(__name__)

Connect = Callable[[], psycopg.Connection[Any]]
WriteFunction = Callable[[Sequence[DecodedRecord]], Counter[str]]

# Errors caused by the rows themselves; retrying the same rows would fail the same way.
_ROW_ERRORS = (psycopg.DataError, psycopg.IntegrityError)


@dataclass
class BatchOutcome:
    """Rows written by table, and the records that could not be written."""

    rows: Counter[str] = field(default_factory=Counter)
    rejected: list[RejectedRecord] = field(default_factory=list)
    transactions: int = 0


def write_bisecting(records: Sequence[DecodedRecord], write: WriteFunction) -> BatchOutcome:
    """Write records with ``write`` (one transaction per call), splitting around rejected rows.

    ``write`` raises RowRejected for content errors and DatabaseUnavailable for anything else;
    the latter propagates unchanged.
    """
    outcome = BatchOutcome()
    pending: list[Sequence[DecodedRecord]] = [records] if records else []
    while pending:
        chunk = pending.pop()
        outcome.transactions += 1
        try:
            outcome.rows.update(write(chunk))
        except RowRejected as error:
            if len(chunk) == 1:
                outcome.rejected.append(_rejected(chunk[0], error))
                continue
            middle = len(chunk) // 2
            # Pushed in reverse so the first half is written first, keeping the input order.
            pending.append(chunk[middle:])
            pending.append(chunk[:middle])
    return outcome


def _rejected(record: DecodedRecord, error: RowRejected) -> RejectedRecord:
    event = record.event
    return RejectedRecord(
        source=record.source,
        reason=f"database rejected the {event.kind} event {event.event_id}: {error}",
        error_type=error.error_type,
        farm_id=getattr(event, "farm_id", None),
        house_number=getattr(event, "house_number", None),
    )


class DatabaseWriter:
    """One database connection, reopened after a failure, that writes batches of events.

    ``mode`` picks how readings are written: ``copy``, ``insert``, or ``auto``, which uses insert
    when the server is PGlite (its socket drops the connection on COPY) and copy otherwise.
    """

    def __init__(self, connect: Connect, mode: WriteMode = "auto") -> None:
        self._connect = connect
        self._mode = mode
        self._connection: psycopg.Connection[Any] | None = None
        self._use_copy = mode == "copy"

    @property
    def uses_copy(self) -> bool:
        """Whether readings go through COPY on the current connection."""
        return self._use_copy

    def connection(self) -> psycopg.Connection[Any]:
        """Return the open connection, opening a new one when there is none; raise DatabaseUnavailable."""
        if self._connection is not None and not self._connection.closed:
            return self._connection
        try:
            connection = self._connect()
            if self._mode == "auto":
                row = connection.execute("SELECT version()").fetchone()
                connection.commit()
                # PGlite is PostgreSQL compiled with Emscripten (emcc); its server cannot COPY.
                self._use_copy = not (row is not None and "emcc" in str(row[0]))
        except psycopg.Error as error:
            raise DatabaseUnavailable(f"cannot connect to the database: {error}") from error
        self._connection = connection
        return connection

    def close(self) -> None:
        """Close the connection, if one is open."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def write(self, records: Sequence[DecodedRecord]) -> Counter[str]:
        """Write the records' events in one transaction; raise RowRejected or DatabaseUnavailable."""
        connection = self.connection()
        try:
            with connection.transaction(), connection.cursor() as cursor:
                return write_events(cursor, [record.event for record in records], self._use_copy)
        except _ROW_ERRORS as error:
            message = error.diag.message_primary if isinstance(error, psycopg.Error) else None
            raise RowRejected(message or str(error), type(error).__name__) from error
        except psycopg.Error as error:
            # Connection loss, timeouts, missing tables: the rows are not at fault, so retry them all.
            self.close()
            raise DatabaseUnavailable(f"{type(error).__name__}: {error}") from error

    def write_batch(self, records: Sequence[DecodedRecord]) -> BatchOutcome:
        """Write a batch, splitting it around rejected records; raise DatabaseUnavailable."""
        return write_bisecting(records, self.write)

    def drop_old_readings(self, retain_days: int) -> int:
        """Apply readings retention: delete rows (plain lane) or drop chunks (TimescaleDB) past the age.

        A latest value goes when its reading goes, so the latest readings match what readings still hold.
        """
        connection = self.connection()
        try:
            with connection.transaction():
                row = connection.execute(
                    "SELECT farmstream_drop_old_readings(make_interval(days => %s))", (retain_days,)
                ).fetchone()
                # Only a latest value whose reading is gone: TimescaleDB drops whole chunks, so
                # readings past the age can stay until their chunk ends.
                connection.execute(
                    "DELETE FROM latest_readings AS l WHERE l.observed_at < now() - make_interval(days => %s)"
                    " AND NOT EXISTS (SELECT 1 FROM readings AS r WHERE r.controller_id = l.controller_id"
                    " AND r.parameter = l.parameter AND r.period = 'instant'"
                    " AND r.observed_at = l.observed_at)",
                    (retain_days,),
                )
        except psycopg.Error as error:
            self.close()
            raise DatabaseUnavailable(f"{type(error).__name__}: {error}") from error
        return int(row[0]) if row is not None and row[0] is not None else 0
