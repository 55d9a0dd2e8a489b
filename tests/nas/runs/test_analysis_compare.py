"""Run comparison (common reference point, two-sample test) and key importances."""

from __future__ import annotations

import numpy as np
import pytest

from nas.runs.analysis.analyze import RunTable, compare_tables
from nas.runs.analysis.importance import importances
from nas.runs.analysis.objectives import DEFAULT_GOALS, common_reference
from nas.runs.analysis.two_sample import _permutation_p, compare_distributions, ks_statistic
from tests.nas.runs.analysis_tables import planted_run, trials_table


def test_common_reference_is_the_worst_of_each_objective() -> None:
    # accuracy is maximised: the worst reference is the lowest; FLOPs: the highest
    assert common_reference([[0.1, 5e6], [0.0, 2e6]], DEFAULT_GOALS) == [0.0, 5e6]


def test_compare_hypervolumes_use_the_common_reference() -> None:
    run_a = trials_table([{"accuracy": 0.8, "flops": 2e6, "first": "resnet", "second": "resnet"}])
    run_b = trials_table(
        [
            {"accuracy": 0.6, "flops": 1e6, "first": "resnet", "second": "attention"},
            {"accuracy": 0.9, "flops": 3e6, "first": "resnet", "second": "attention"},
        ]
    )
    document = compare_tables(
        [RunTable("a", run_a, [0.0, 4e6]), RunTable("b", run_b, [0.0, 5e6])], DEFAULT_GOALS
    )
    assert document["reference_point"] == [0.0, 5e6]
    volumes = {g["label"]: g["hypervolume"] for g in document["groups"]}
    # a: one box (5e6 - 2e6) x 0.8; b: (5e6 - 1e6) x 0.6 plus (5e6 - 3e6) x (0.9 - 0.6)
    assert volumes["a"] == pytest.approx(3e6 * 0.8)
    assert volumes["b"] == pytest.approx(4e6 * 0.6 + 2e6 * 0.3)
    assert document["winners"][0]["winner"] == "b"


def test_ks_statistic_is_the_largest_gap_between_edfs() -> None:
    assert ks_statistic(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == 1.0
    # F_a - F_b at 2: 2/4 - 0/2 = 0.5 is the largest gap
    assert ks_statistic(np.array([1.0, 2.0, 5.0, 6.0]), np.array([3.0, 4.0])) == 0.5


def test_two_sample_test_separates_shifted_errors_and_not_identical_ones() -> None:
    shifted = planted_run(40, gap=0.15)
    errors = 1 - shifted["accuracy"].to_numpy()
    different = compare_distributions(errors[:40], errors[40:])
    same = compare_distributions(errors[:40], errors[:40])
    assert different.p_value < 0.01 and same.p_value > 0.5
    assert same.statistic == 0.0


def test_permutation_p_value_agrees_with_scipy_when_samples_differ_clearly() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 30), rng.normal(0.8, 1, 30)
    exact = scipy_stats.ks_2samp(a, b).pvalue
    permuted = _permutation_p(a, b, seed=0, permutations=2000)
    assert permuted == pytest.approx(exact, abs=0.01)


def test_importance_ranks_the_planted_key_first() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(60):  # accuracy depends on the kernel only; blocks are noise
        kernel = int(rng.choice([3, 5]))
        rows.append(
            {
                "accuracy": 0.6 + 0.2 * (kernel == 5) + rng.normal(0, 0.01),
                "flops": rng.uniform(1e6, 2e6),
                "first": str(rng.choice(["resnet", "convnext"])),
                "second": str(rng.choice(["resnet", "mbconv"])),
                "kernel": kernel,
            }
        )
    for evaluator in ("ped-anova", "fanova"):
        found = importances(trials_table(rows), DEFAULT_GOALS[:1], evaluator=evaluator)
        ranking = list(found["objectives"]["accuracy"])
        # stages[0].kernel and stages[1].kernel are the same planted choice here
        assert set(ranking[:2]) == {"stages[0].kernel", "stages[1].kernel"}, evaluator
        assert found["caveat"] is None


def test_importance_of_a_small_run_carries_the_caveat() -> None:
    table = planted_run(5, gap=0.1)
    found = importances(table, DEFAULT_GOALS, evaluator="ped-anova")
    assert "only 10 complete trials" in found["caveat"]
