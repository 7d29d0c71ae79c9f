"""Unit tests of how migration files are found and chosen per lane (files only, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrations import MigrationError, load_migrations


def _write(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text("SELECT 1;\n", encoding="utf-8")


def test_lane_variant_replaces_common(tmp_path: Path) -> None:
    _write(tmp_path, "0001_core.sql", "0002_readings.postgres.sql", "0002_readings.timescaledb.sql")

    plain = load_migrations("postgres", tmp_path)
    timescale = load_migrations("timescaledb", tmp_path)

    assert [m.version for m in plain] == [1, 2]
    assert [m.version for m in timescale] == [1, 2]
    assert plain[1].path.name == "0002_readings.postgres.sql"
    assert timescale[1].path.name == "0002_readings.timescaledb.sql"


def test_versions_sorted_numerically(tmp_path: Path) -> None:
    _write(tmp_path, "0200_notify.sql", "0010_more.sql", "0100_keys.sql", "0001_core.sql")

    assert [m.version for m in load_migrations("postgres", tmp_path)] == [1, 10, 100, 200]


def test_missing_lane_variant_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "0003_only.postgres.sql")

    with pytest.raises(MigrationError, match="has only a postgres file"):
        load_migrations("postgres", tmp_path)


def test_duplicate_version_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "0004_first.sql", "0004_second.sql")

    with pytest.raises(MigrationError, match="0004 is defined twice"):
        load_migrations("postgres", tmp_path)


def test_common_and_lane_file_clash(tmp_path: Path) -> None:
    _write(tmp_path, "0005_x.sql", "0005_x.postgres.sql", "0005_x.timescaledb.sql")

    with pytest.raises(MigrationError, match="0005 is defined twice"):
        load_migrations("postgres", tmp_path)


def test_invalid_file_name_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "1_core.sql")

    with pytest.raises(MigrationError, match=r"invalid migration file name '1_core\.sql'"):
        load_migrations("postgres", tmp_path)


def test_shipped_lanes_have_same_versions() -> None:
    plain = load_migrations("postgres")
    timescale = load_migrations("timescaledb")

    assert [m.version for m in plain] == [m.version for m in timescale]
    assert plain[0].version == 1
    assert {m.name for m in plain} >= {"core", "readings"}
