"""Unit tests of batch bisection with a fake write function (no database)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from sinks.batch import write_bisecting
from sinks.exceptions import DatabaseUnavailable, RowRejected
from sinks.records import DecodedRecord, SourceRecord
from tests.sinks.sink_events import reading


def _records(count: int) -> list[DecodedRecord]:
    return [
        DecodedRecord(SourceRecord("p.readings", 0, offset, None, b""), reading("farm-a", 1, offset))
        for offset in range(count)
    ]


class FakeWrite:
    """Commits a chunk unless it contains a bad offset; records every chunk it was given."""

    def __init__(self, bad_offsets: set[int]) -> None:
        self.bad_offsets = bad_offsets
        self.committed: list[int] = []
        self.calls = 0

    def __call__(self, chunk: Sequence[DecodedRecord]) -> Counter[str]:
        self.calls += 1
        offsets = [record.source.offset for record in chunk]
        if self.bad_offsets & set(offsets):
            raise RowRejected("value out of range for type integer", "NumericValueOutOfRange")
        self.committed.extend(offsets)
        return Counter({"readings": len(chunk)})


def test_clean_batch_in_one_transaction() -> None:
    write = FakeWrite(set())

    outcome = write_bisecting(_records(100), write)

    assert outcome.rows == Counter({"readings": 100})
    assert outcome.rejected == []
    assert write.calls == 1


@pytest.mark.parametrize("bad", [{0}, {99}, {13, 14}, {0, 50, 99}, set(range(0, 100, 7))])
def test_bisect_isolates_bad_records(bad: set[int]) -> None:
    write = FakeWrite(bad)

    outcome = write_bisecting(_records(100), write)

    assert sorted(item.source.offset for item in outcome.rejected) == sorted(bad)
    assert sorted(write.committed) == [offset for offset in range(100) if offset not in bad]
    assert write.committed == sorted(write.committed)
    assert outcome.rows["readings"] == 100 - len(bad)


def test_rejected_reason_names_event() -> None:
    records = _records(3)

    outcome = write_bisecting(records, FakeWrite({1}))

    assert len(outcome.rejected) == 1
    rejected = outcome.rejected[0]
    assert rejected.error_type == "NumericValueOutOfRange"
    assert records[1].event.event_id in rejected.reason
    assert "value out of range" in rejected.reason
    assert (rejected.farm_id, rejected.house_number) == ("farm-a", 1)


def test_unavailable_database_propagates() -> None:
    def unavailable(_chunk: Sequence[DecodedRecord]) -> Counter[str]:
        raise DatabaseUnavailable("connection refused")

    with pytest.raises(DatabaseUnavailable):
        write_bisecting(_records(10), unavailable)


def test_empty_batch_writes_nothing() -> None:
    write = FakeWrite(set())

    outcome = write_bisecting([], write)

    assert write.calls == 0
    assert outcome.rows == Counter()
