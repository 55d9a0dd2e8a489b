"""Learning curves for the dashboard (compact study attribute) and TensorBoard (event
files read back with TensorBoard's own reader)."""

from __future__ import annotations

import math

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nas.runs import format as rf
from nas.runs.curves import compact_history, expand_history, write_tensorboard

HISTORY = [
    {"epoch": 1.0, "accuracy": 0.412345678, "loss": 1.98765, "lr": 0.003, "seconds": 12.5},
    {"epoch": 2.0, "accuracy": 0.6, "loss": 1.2345678, "lr": 0.0015, "seconds": 24.25},
    {"epoch": 3.0, "accuracy": 0.71, "loss": math.nan, "lr": 0.0, "seconds": 36.0},
]


def test_compact_history_is_one_rounded_list_per_metric() -> None:
    compact = compact_history(HISTORY)
    assert compact == {
        "epoch": [1, 2, 3],
        "accuracy": [0.4123, 0.6, 0.71],
        "loss": [1.988, 1.235, None],  # 4 significant digits; NaN is not JSON
        "lr": [0.003, 0.0015, 0],
        "seconds": [12.5, 24.25, 36],
    }
    # Much shorter than the records it replaces (the dashboard shows it on one line).
    assert len(str(compact)) < len(str(HISTORY)) * 0.7


def test_both_forms_expand_to_records() -> None:
    records = expand_history(compact_history(HISTORY[:2]))
    assert records[1] == {
        "epoch": 2,
        "accuracy": 0.6,
        "loss": 1.235,
        "lr": 0.0015,
        "seconds": 24.25,
    }
    assert expand_history(HISTORY) == HISTORY  # an older run's attribute
    assert expand_history(None) == [] and expand_history({}) == []


def test_tensorboard_event_files_hold_every_epoch(tmp_path) -> None:
    folder = write_tensorboard(tmp_path, 7, HISTORY)
    assert folder == tmp_path / rf.TENSORBOARD_DIR / "trial_7"
    events = EventAccumulator(str(folder))
    events.Reload()
    assert sorted(events.Tags()["scalars"]) == ["accuracy", "loss", "lr", "seconds"]
    for tag in ("accuracy", "lr", "seconds"):
        read = [(e.step, e.value) for e in events.Scalars(tag)]
        assert read == [(int(h["epoch"]), pytest.approx(h[tag])) for h in HISTORY]
    # The non-finite loss of epoch 3 is left out rather than drawn as a spike.
    assert [e.step for e in events.Scalars("loss")] == [1, 2]


def test_no_epochs_no_event_files(tmp_path) -> None:
    assert write_tensorboard(tmp_path, 0, []) is None
    assert not (tmp_path / rf.TENSORBOARD_DIR).exists()
