"""The design-space analysis against values computed independently: EDFs by hand, the
bootstrap recomputed with numpy, winner calls on planted differences."""

from __future__ import annotations

import numpy as np
import pytest

from nas.runs.analysis.analyze import analyze_table, group_by
from nas.runs.analysis.bootstrap import (
    best_with_interval,
    call_winner,
    parse_budget,
)
from nas.runs.analysis.edf import edf_at, error_edf, parse_band
from nas.runs.analysis.features import NOT_APPLICABLE, group_column, lookup
from nas.runs.analysis.objectives import DEFAULT_GOALS
from search_space.errors import SpaceError
from tests.nas.runs.analysis_tables import planted_run, trials_table

HAND_MADE = [
    {"accuracy": 0.9, "flops": 1e6, "first": "resnet", "second": "resnet"},
    {"accuracy": 0.8, "flops": 2e6, "first": "resnet", "second": "resnet"},
    {"accuracy": 0.8, "flops": 3e6, "first": "convnext", "second": "resnet", "kernel": 5},
    {"accuracy": 0.6, "flops": 9e6, "first": "convnext", "second": "resnet", "kernel": 5},
    {"accuracy": 0.7, "flops": 4e6, "first": "resnet", "second": "attention"},
    {"accuracy": 0.95, "flops": 8e6, "first": "resnet", "second": "attention", "state": "failed"},
]


def test_error_edf_counts_ties_once_per_step() -> None:
    # errors 0.1, 0.2, 0.2, 0.4: F = 1/4 at 0.1, 3/4 at 0.2, 1 at 0.4
    grid, fraction = error_edf([0.1, 0.2, 0.2, 0.4])
    np.testing.assert_allclose(grid, [0.1, 0.2, 0.4])
    np.testing.assert_allclose(fraction, [0.25, 0.75, 1.0])
    np.testing.assert_allclose(
        edf_at([0.1, 0.2, 0.2, 0.4], [0.05, 0.2, 0.3, 1]), [0, 0.75, 0.75, 1]
    )


def test_group_edf_on_a_hand_made_table_skips_failed_trials() -> None:
    document = analyze_table(
        trials_table(HAND_MADE), DEFAULT_GOALS, keys=["family"], evaluator=None
    )
    groups = {g["label"]: g for g in document["groupings"][0]["groups"]}
    assert set(groups) == {"conv", "hybrid"}
    conv = groups["conv"]["edf"]  # accuracies 0.9, 0.8, 0.8, 0.6 -> errors 0.1, 0.2, 0.2, 0.4
    np.testing.assert_allclose(conv["error"], [0.1, 0.2, 0.4])
    np.testing.assert_allclose(conv["fraction"], [0.25, 0.75, 1.0])
    assert groups["hybrid"]["complete"] == 1  # the failed 0.95 is not a measurement
    assert groups["conv"]["median_error"] == pytest.approx(0.2)


def test_flops_band_restricts_the_edf_as_in_regnet() -> None:
    band = parse_band("flops=1.5e6:5e6")
    document = analyze_table(
        trials_table(HAND_MADE), DEFAULT_GOALS, keys=["family"], band=band, evaluator=None
    )
    conv = document["groupings"][0]["groups"][0]
    np.testing.assert_allclose(conv["edf"]["error"], [0.2])  # only the 2e6 and 3e6 trials
    np.testing.assert_allclose(conv["edf"]["fraction"], [1.0])
    assert conv["edf"]["band"] == "flops=1.5e6:5e6"


def test_group_front_is_the_nondominated_rows_of_the_group() -> None:
    grouping = group_by(trials_table(HAND_MADE[:4]), "stages[0].block", DEFAULT_GOALS, [None])
    fronts = {g["label"]: [r["number"] for r in g["front"]] for g in grouping["groups"]}
    # resnet: 0 (0.9 @ 1e6) dominates 1; convnext: 2 (0.8 @ 3e6) dominates 3
    assert fronts == {"convnext": [2], "resnet": [0]}


def test_bootstrap_interval_matches_numpy_recomputation() -> None:
    values = np.random.default_rng(7).uniform(0.4, 0.9, 25)
    estimate = best_with_interval(values, seed=3, resamples=500)
    rng = np.random.default_rng(3)
    best = values[rng.integers(0, 25, size=(500, 25))].max(axis=1)
    low, high = np.percentile(best, [2.5, 97.5])
    assert estimate.best == values.max()
    assert (estimate.low, estimate.high) == (pytest.approx(low), pytest.approx(high))
    assert estimate.count == 25
    assert estimate.low < estimate.high <= estimate.best


def test_bootstrap_of_the_difference_matches_numpy_recomputation() -> None:
    a, b = np.array([0.7, 0.8, 0.9]), np.array([0.5, 0.6, 0.85, 0.6])
    call = call_winner({"a": a, "b": b}, seed=11, resamples=300)
    rng = np.random.default_rng(11)
    best_a = a[rng.integers(0, 3, size=(300, 3))].max(axis=1)
    best_b = b[rng.integers(0, 4, size=(300, 4))].max(axis=1)
    low, high = np.percentile(best_a - best_b, [2.5, 97.5])
    assert (call.winner, call.runner_up) == ("a", "b")
    assert call.difference == pytest.approx(0.05)
    assert (call.low, call.high) == (pytest.approx(low), pytest.approx(high))


def test_planted_difference_on_single_seed_scores_is_untested_never_a_clear_win() -> None:
    document = analyze_table(planted_run(40, gap=0.1), DEFAULT_GOALS, evaluator=None)
    call = document["groupings"][0]["winners"][0]
    assert call["winner"] == "hybrid" and call["runner_up"] == "conv"
    assert call["difference"] == pytest.approx(0.1)
    # 0.1 against sqrt(2) * (0.6 points of assumed seed SD (+) binomial at ~0.8 on 1,000
    # images): the interval is above zero, but single-seed scores never make a clear win.
    se = np.hypot(0.006, np.sqrt(0.79 * 0.21 / 1000))
    assert call["low"] == pytest.approx(0.1 - 1.96 * np.sqrt(2) * se, abs=2e-3)
    assert call["status"] == "untested" and not call["clear"]
    assert call["sentence"].split(": ", 1)[1].startswith("untested: single-seed scores")
    assert "clear win" not in call["sentence"]
    # every hybrid is 0.1 above its conv twin: hybrid holds the top scores, which random
    # labels of 40 and 40 architectures almost never give
    assert call["permutation_p"] < 1e-3


def test_identical_groups_are_called_no_difference() -> None:
    document = analyze_table(planted_run(40, gap=0.0), DEFAULT_GOALS, evaluator=None)
    call = document["groupings"][0]["winners"][0]
    assert call["difference"] == 0.0
    assert not call["clear"] and call["low"] < 0 < call["high"]
    assert call["permutation_p"] == 1.0
    assert "no claim either way" in call["sentence"]


def test_budget_keeps_only_trials_within_it() -> None:
    document = analyze_table(
        trials_table(HAND_MADE), DEFAULT_GOALS, budgets=[parse_budget("flops <= 2.5e6")]
    )
    conv = document["groupings"][0]["groups"][0]["best"]
    assert [b["budget"] for b in conv] == ["any budget", "flops<=2.5e6"]
    assert conv[1]["best"] == 0.9 and conv[1]["count"] == 2
    winners = document["groupings"][0]["winners"]
    assert winners[1]["winner"] == "conv" and winners[1]["runner_up"] is None  # hybrid: 4e6


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("stages[1].block", ["resnet", "resnet", "resnet", "resnet", "attention", "attention"]),
        ("stages[0].kernel", ["3", "3", "5", "5", "3", "3"]),
        ("stages[1].kernel", ["3", "3", "5", "5", NOT_APPLICABLE, NOT_APPLICABLE]),
        ("family", ["conv"] * 4 + ["hybrid"] * 2),
        ("first_attention_stage", ["none"] * 4 + ["1"] * 2),
        ("has_attention", ["False"] * 4 + ["True"] * 2),
        ("stem.type", ["conv"] * 6),
    ],
)
def test_group_keys_read_paths_and_derived_features(key: str, expected: list[str]) -> None:
    assert group_column(trials_table(HAND_MADE), key).tolist() == expected


def test_unknown_keys_and_bad_budgets_are_user_errors() -> None:
    with pytest.raises(SpaceError, match="in no trial"):
        group_column(trials_table(HAND_MADE), "stages[5].block")
    with pytest.raises(SpaceError, match="COLUMN<=NUMBER"):
        parse_budget("flops<5e6")
    with pytest.raises(SpaceError, match="LOW:HIGH"):
        parse_band("flops=5e6")
    assert lookup({"stages": [{"block": "resnet"}]}, "stages[-1].block") == "resnet"
