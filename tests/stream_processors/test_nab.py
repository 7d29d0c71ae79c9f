"""Unit tests of the NAB scorer, against the published detector results (no broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_processors.evaluation import nab

NAB_DIR = Path("/work/shared/data/nab")
DATA = NAB_DIR / "machine_temperature_system_failure.csv"
LABELS = NAB_DIR / "labels.json"


@pytest.mark.parametrize(
    ("detector", "threshold", "expected"),
    [
        ("numenta", 0.542187690735, 1.3601),
        ("randomCutForest", 0.453918457031, -2.1186),
        ("ARTime", 0.317486, 2.5563),
    ],
)
def test_published_scores_reproduced(detector: str, threshold: float, expected: float) -> None:
    timestamps, _ = nab.read_series(DATA)
    windows = nab.read_windows(LABELS, DATA.name, timestamps)
    results = NAB_DIR / "published_detections" / f"{detector}_{DATA.name}"
    rows = nab.read_detections(results, timestamps, threshold)
    assert round(nab.score_detections(len(timestamps), windows, rows).score, 4) == expected


def test_silence_costs_every_window() -> None:
    windows = [nab.Window(2000, 2099), nab.Window(4000, 4099)]
    result = nab.score_detections(10_000, windows, [])
    assert result.score == -2.0
    assert result.false_negatives == 2


def test_window_start_earns_full_reward() -> None:
    windows = [nab.Window(2000, 2099)]
    result = nab.score_detections(10_000, windows, [2000, 2001, 2050])
    assert result.true_positives == 1
    assert result.score == pytest.approx(nab.scaled_sigmoid(-1.0) / nab.scaled_sigmoid(-1.0))


def test_late_detection_earns_less() -> None:
    windows = [nab.Window(2000, 2099)]
    early = nab.score_detections(10_000, windows, [2010]).score
    late = nab.score_detections(10_000, windows, [2090]).score
    assert 0 < late < early <= 1.0


def test_false_alarm_costs_depend_on_distance() -> None:
    windows = [nab.Window(2000, 2099)]
    before = nab.score_detections(10_000, windows, [1500, 2000]).false_positive_costs
    just_after = nab.score_detections(10_000, windows, [2000, 2101]).false_positive_costs
    far_after = nab.score_detections(10_000, windows, [2000, 9000]).false_positive_costs
    assert before == [-0.11]
    assert -0.11 < just_after[0] < 0
    assert far_after[0] == pytest.approx(-0.11)


def test_probation_detections_ignored() -> None:
    windows = [nab.Window(2000, 2099)]
    assert nab.probation_rows(10_000) == 750
    assert nab.probation_rows(1000) == 150
    result = nab.score_detections(10_000, windows, [10, 700, 2000])
    assert result.false_positives == 0


def test_window_inside_probation_uncounted() -> None:
    result = nab.score_detections(1000, [nab.Window(100, 120)], [])
    assert result.score == 0.0


def test_times_map_to_rows() -> None:
    timestamps, _ = nab.read_series(DATA)
    rows = nab.rows_for_times([timestamps[5], timestamps[7]], timestamps)
    assert rows == [5, 7]
