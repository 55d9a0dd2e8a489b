"""Balanced accuracy and macro F1 as objectives, in verify's summary and the model card."""

from __future__ import annotations

import pytest

from nas.engine.objectives import kind_of, objective_values, parse_objectives, worst_value
from nas.runs.card import confusion_lines
from nas.runs.pareto import MAXIMIZE
from nas.runs.verification import format_summary, summarise


def test_the_class_scores_are_trained_objectives_maximised_by_default() -> None:
    objectives = parse_objectives("balanced_accuracy,macro_f1:max,flops:min")
    assert [(o.name, o.direction) for o in objectives][:2] == [
        ("balanced_accuracy", MAXIMIZE),
        ("macro_f1", MAXIMIZE),
    ]
    assert kind_of("balanced_accuracy") == kind_of("macro_f1") == "trained"
    assert worst_value(objectives[0]) == 0.0  # an infeasible trial is told the floor
    assert objective_values(objectives, {"flops": 5.0}) == [0.0, 0.0, 5.0]


def _row(trial: int, seed: int, balanced: float, accuracy: float) -> dict:
    return {
        "trial": trial,
        "seed": seed,
        "epochs": 4,
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        "macro_f1": balanced - 0.01,
        "flops": 1e6 * (trial + 1),
    }


def test_verify_gives_intervals_for_the_class_scores_even_when_not_objectives() -> None:
    rows = [_row(0, s, 0.70 + 0.01 * s, 0.8) for s in (1, 2, 3)]
    rows += [_row(1, s, 0.80 + 0.01 * s, 0.9) for s in (1, 2, 3)]
    document = summarise(rows, ["accuracy", "flops"], {})
    balanced = document["members"][0]["objectives"]["balanced_accuracy"]
    assert balanced["mean"] == pytest.approx(0.72)  # (0.71 + 0.72 + 0.73) / 3
    assert balanced["std"] == pytest.approx(0.01)
    # compared only on the run's objectives: accuracy, no pair on balanced accuracy
    assert {p["objective"] for p in document["indistinguishable"]} <= {"accuracy"}
    assert "balanced_accuracy 72.00% +/- 1.00" in format_summary(document)


def test_older_verify_rows_without_class_scores_still_summarise() -> None:
    rows = [{"trial": 0, "seed": s, "epochs": 4, "accuracy": 0.9, "flops": 1.0} for s in (1, 2)]
    document = summarise(rows, ["accuracy", "flops"], {})
    assert set(document["members"][0]["objectives"]) == {"accuracy", "flops"}


def test_the_model_card_draws_the_confusion_matrix_with_class_names() -> None:
    lines = confusion_lines([[50, 3], [7, 20]], ["functional", "defective"])
    assert "| true class | functional | defective |" in lines
    assert "| functional | 50 | 3 |" in lines and "| defective | 7 | 20 |" in lines
    assert confusion_lines(None, None) == []
