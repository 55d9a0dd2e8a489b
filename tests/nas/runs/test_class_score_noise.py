"""A search on balanced accuracy is judged on balanced accuracy's own noise: its seed noise
from the repeats of that score, its evaluation noise from the confusion matrix, and its
test comparison with each class weighted as the score weighs it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from nas.runs.analysis.evidence import (
    class_weights,
    pack_correct,
    pack_labels,
    retrained_tables,
    run_evidence,
    unpack_labels,
)
from nas.runs.analysis.groups import winner_lines
from nas.runs.analysis.objectives import Goal
from nas.runs.noise import BINOMIAL_APPROXIMATE, FROM_CONFUSION, evaluation_se, seed_noise
from tests.nas.runs.analysis_tables import arch_document

GOALS = [Goal("balanced_accuracy", "maximize"), Goal("flops", "minimize")]


def _table(balanced: list[float], se_eval: list[float] | None, keys: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "number": range(len(balanced)),
            "state": "complete",
            "accuracy": 0.9,  # plain accuracy: high and flat on imbalanced data
            "balanced_accuracy": balanced,
            "val_images": 525,
            "flops": 1e6,
            "arch_key": keys,
        }
    )
    if se_eval is not None:
        table["balanced_accuracy_se_eval"] = se_eval
    return table


def test_seed_noise_is_pooled_from_the_searched_score_not_accuracy() -> None:
    table = _table([0.70, 0.74, 0.60, 0.66], None, ["a", "a", "b", "b"])
    noise = seed_noise(table, [], "balanced_accuracy")
    # pooled SD of (0.70, 0.74) and (0.60, 0.66): sqrt((0.0008 + 0.0018) / 2)
    assert noise.sd == pytest.approx(np.sqrt(0.0013)) and noise.df == 2
    assert noise.score == "balanced_accuracy" and "of balanced_accuracy" in noise.describe()
    assert seed_noise(table, [], "accuracy").sd == 0.0  # plain accuracy never moved
    rows = [{"trial": 9, "balanced_accuracy": v} for v in (0.5, 0.6)]  # verify.csv seeds
    assert seed_noise(table.iloc[:0], rows, "balanced_accuracy").sd == pytest.approx(0.0707107)


def test_evaluation_se_reads_the_recorded_errors_and_says_when_it_approximates() -> None:
    table = _table([0.70, 0.64], [0.021, 0.024], ["a", "b"])
    found, method = evaluation_se(table, "balanced_accuracy")
    assert found.tolist() == [0.021, 0.024] and method == FROM_CONFUSION
    older = _table([0.70, 0.64], [0.021, np.nan], ["a", "b"])  # one trial without a matrix
    found, method = evaluation_se(older, "balanced_accuracy")
    assert found[1] == pytest.approx(np.sqrt(0.64 * 0.36 / 525)) and method == BINOMIAL_APPROXIMATE


def test_weighted_test_scores_average_to_scikit_learns_balanced_accuracy() -> None:
    rng = np.random.default_rng(3)
    labels = rng.choice(4, size=525, p=[0.6, 0.1, 0.05, 0.25])
    assert np.array_equal(unpack_labels(pack_labels(labels)), labels)
    correct = rng.random(525) < np.array([0.95, 0.4, 0.5, 0.85])[labels]
    predictions = np.where(correct, labels, (labels + 1) % 4)
    expected = balanced_accuracy_score(labels, predictions)
    assert float((correct * class_weights(labels)).mean()) == pytest.approx(expected, rel=1e-12)
    rows = [
        {
            "trial": 4,
            "test_images": 525,
            "test_correct": pack_correct(correct),
            "test_labels": pack_labels(labels),
        }
    ] * 2
    tables, tested_on = retrained_tables(rows, "balanced_accuracy")
    assert tested_on == "balanced_accuracy"
    assert tables[4].mean(axis=1) == pytest.approx([expected, expected])
    unlabelled = [{k: v for k, v in r.items() if k != "test_labels"} for r in rows]
    tables, tested_on = retrained_tables(unlabelled, "balanced_accuracy")  # an older verify
    assert tested_on == "accuracy" and tables[4].mean() == pytest.approx(correct.mean())
    assert retrained_tables(rows, "macro_f1")[1] == "accuracy"  # no per-image form


def test_the_untested_call_uses_the_recorded_evaluation_noise() -> None:
    # two groups; their bests differ by 4 points of balanced accuracy
    conv = _table([0.74, 0.60], [0.025, 0.025], ["a", "b"])
    hybrid = _table([0.70, 0.62], [0.025, 0.025], ["c", "d"]).assign(number=[2, 3])
    evidence = run_evidence(pd.concat([conv, hybrid]), [], None, "balanced_accuracy")
    call = winner_lines({"conv": conv, "hybrid": hybrid}, GOALS, [None], evidence=evidence)[0]
    # se of each best: hypot(assumed seed SD 0.006, recorded 0.025); the interval is
    # 0.04 +/- 1.96 * sqrt(2) * that, which includes zero
    se = np.hypot(0.006, 0.025)
    assert call["validation"]["se"] == pytest.approx(np.sqrt(2) * se)
    assert call["validation"]["low"] < 0 < call["validation"]["high"]
    assert "points of balanced_accuracy on validation" in call["sentence"]
    assert FROM_CONFUSION in call["details"][0]
    # the binomial at 74% on 525 images would have been 1.9 points, not 2.5
    assert np.sqrt(0.74 * 0.26 / 525) < 0.02


def test_the_report_draws_the_searched_score_not_plain_accuracy() -> None:
    from nas.runs.analysis.analyze import analyze_table
    from nas.runs.html.report import build_report
    from nas.runs.pareto import pareto_front

    # plain accuracy rises with FLOPs while balanced accuracy does not: a model that
    # answers the common class more often
    table = pd.DataFrame(
        {
            "number": range(6),
            "state": "complete",
            "accuracy": [0.80, 0.82, 0.84, 0.86, 0.88, 0.90],
            "balanced_accuracy": [0.60, 0.70, 0.66, 0.72, 0.64, 0.71],
            "flops": [1e6, 2e6, 3e6, 4e6, 5e6, 6e6],
            "val_images": 525,
            "arch_yaml": [arch_document("conv", "conv"), arch_document("conv", "attention")] * 3,
        }
    )
    front = pareto_front(table[["balanced_accuracy", "flops"]].to_numpy(), GOAL_DIRECTIONS)
    table["pareto"] = table.index.isin(front)
    analysis = analyze_table(table, GOALS, ["family"], evaluator=None)
    assert [g["label"] for g in analysis["groupings"][0]["groups"]] == ["conv", "hybrid"]
    conv = analysis["groupings"][0]["groups"][0]
    assert [r["accuracy"] for r in conv["front"]] == [0.60, 0.66]  # conv's #0 and #2
    assert [r["plain_accuracy"] for r in conv["front"]] == [0.80, 0.84]
    page = build_report(table, "t", analysis=analysis)
    assert "balanced_accuracy (higher is better)" in page
    from nas.runs.html.figures import front_figure

    drawn = front_figure(table, "balanced_accuracy")["data"][-1]
    assert drawn["y"] == [0.60, 0.70, 0.72]  # the front of the searched score, a staircase
    assert drawn["y"] == sorted(drawn["y"])


GOAL_DIRECTIONS = ["maximize", "minimize"]
