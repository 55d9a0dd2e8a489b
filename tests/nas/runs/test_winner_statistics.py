"""The winner call's two tests against independent references: the label permutation test
against its closed form and a brute-force enumeration, the test-split comparison against a
direct two-way ANOVA and against simulated nulls of known rate."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import binomtest

from nas.runs.analysis.permutation import label_permutation_p
from nas.runs.analysis.tested import compare_on_test, sample_size, seed_variance


def test_permutation_p_is_the_hypergeometric_closed_form_when_a_holds_the_top() -> None:
    # A holds the top m = 3 of n = 12 scores and B's best is the 4th: P(D* >= D) is the
    # chance that a random 4-of-12 labelling puts the top 3 in A: C(9, 1) / C(12, 4).
    first = np.array([0.99, 0.98, 0.97, 0.90])
    second = np.array([0.96, 0.95, 0.94, 0.93, 0.92, 0.91, 0.89, 0.88])
    expected_upper = math.comb(9, 1) / math.comb(12, 4)
    assert label_permutation_p(first, second) == pytest.approx(2 * expected_upper)


def test_permutation_p_matches_brute_force_over_every_labelling() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(0.97, 0.01, size=9)
    first, second = values[:3], values[3:]
    observed = first.max() - second.max()
    found = []
    for chosen in itertools.combinations(range(9), 3):
        mask = np.zeros(9, bool)
        mask[list(chosen)] = True
        found.append(values[mask].max() - values[~mask].max())
    found = np.array(found)
    upper, lower = np.mean(found >= observed), np.mean(found <= observed)
    assert label_permutation_p(first, second) == pytest.approx(min(1, 2 * min(upper, lower)))


def test_drawn_permutations_agree_with_the_enumeration() -> None:
    rng = np.random.default_rng(5)
    first, second = rng.normal(0.975, 0.01, 14), rng.normal(0.97, 0.01, 16)  # C(30,14): drawn
    exact_like = label_permutation_p(first, second, seed=1, resamples=40_000)
    assert label_permutation_p(first, second, seed=2) == pytest.approx(exact_like, abs=0.03)


def _two_way_residual_mean_square(table: np.ndarray) -> float:
    """The residual mean square of a seeds x images table, by explicit sums of squares."""
    seeds, images = table.shape
    grand = table.mean()
    total = ((table - grand) ** 2).sum()
    rows = images * ((table.mean(axis=1) - grand) ** 2).sum()
    columns = seeds * ((table.mean(axis=0) - grand) ** 2).sum()
    return (total - rows - columns) / ((seeds - 1) * (images - 1))


def test_seed_variance_is_the_anova_moment_estimate() -> None:
    rng = np.random.default_rng(6)
    tables = [rng.random((3, 50)) < 0.9, rng.random((4, 50)) < 0.8]
    expected_total = 0.0
    for table in tables:
        table = table.astype(float)
        between = table.mean(axis=1).var(ddof=1)
        expected_total += (len(table) - 1) * (between - _two_way_residual_mean_square(table) / 50)
    found = seed_variance(tables)
    assert found.df == 2 + 3
    assert found.variance == pytest.approx(max(0.0, expected_total / 5))


def _model(rng, accuracy, difficulty, seeds, seed_sd):
    """0/1 scores: a latent-threshold model whose seeds have N(0, seed_sd) accuracy luck."""
    from scipy.stats import norm

    luck = rng.normal(0, seed_sd, size=(seeds, 1))
    noise = rng.standard_normal((seeds, difficulty.size))
    return 0.8 * difficulty[None, :] + 0.6 * noise < norm.ppf(accuracy + luck)


def test_equal_models_are_called_different_at_the_nominal_five_percent() -> None:
    # A simulated null of known rate: two models of equal true accuracy (97.5%), 3 seeds
    # each with seed luck of 0.4 points, fresh test images every time.
    rng = np.random.default_rng(7)
    runs, wins = 800, 0
    for _ in range(runs):
        images = rng.standard_normal(600)
        first = _model(rng, 0.975, images, 3, 0.004)
        second = _model(rng, 0.975, images, 3, 0.004)
        wins += compare_on_test(first, second).clear
    # 5% is inside the exact binomial 99% interval of the observed rate
    interval = binomtest(wins, runs).proportion_ci(0.99)
    assert interval.low <= 0.05 <= interval.high


def test_estimated_variance_matches_the_spread_of_the_difference() -> None:
    # The variance the test uses, averaged over runs, equals the variance of d itself.
    rng = np.random.default_rng(8)
    differences, variances = [], []
    for _ in range(600):
        images = rng.standard_normal(500)
        first = _model(rng, 0.98, images, 4, 0.005)
        second = _model(rng, 0.97, images, 4, 0.003)
        result = compare_on_test(first, second)
        differences.append(result.difference)
        variances.append(result.se**2)
    assert np.mean(variances) == pytest.approx(np.var(differences, ddof=1), rel=0.15)
    assert np.mean(differences) == pytest.approx(0.01, abs=0.001)


def test_sample_size_solves_the_normal_power_equation() -> None:
    rng = np.random.default_rng(9)
    images = rng.standard_normal(1000)
    result = compare_on_test(
        _model(rng, 0.98, images, 3, 0.005), _model(rng, 0.975, images, 3, 0.005)
    )
    size = sample_size(result, difference=0.01)
    sigma2_seed = result.seed_variance * 3 / 2  # per model
    if size.seeds_needed is not None:
        # with that many seeds the predicted sd is small enough, with one fewer it is not
        def sd(seeds: int) -> float:
            return math.sqrt(2 * sigma2_seed / seeds + result.eval_variance)

        assert 2.8016 * sd(size.seeds_needed) <= 0.01
        assert size.seeds_needed == 2 or 2.8016 * sd(size.seeds_needed - 1) > 0.01
    assert size.resolvable_now == pytest.approx(2.8016 * result.se, rel=1e-4)
