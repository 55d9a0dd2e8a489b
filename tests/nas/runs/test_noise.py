"""The noise model against closed forms and numbers computed another way."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from nas.runs.noise import (
    ASSUMED_SEED_SD,
    add_noise_columns,
    binomial_se,
    pooled_sd,
    seed_noise,
)


def test_binomial_se_is_the_closed_form_of_a_proportion() -> None:
    # 98% on 1,000 images: sqrt(0.98 * 0.02 / 1000) = 0.004427 (0.44 points, the figure)
    assert binomial_se(0.98, 1000) == pytest.approx(0.0044271887, rel=1e-8)
    # and it is the standard deviation of simulated binomial proportions
    draws = np.random.default_rng(0).binomial(1000, 0.98, size=200_000) / 1000
    assert binomial_se(0.98, 1000) == pytest.approx(draws.std(), rel=0.01)


def test_pooled_sd_matches_pooling_by_residuals() -> None:
    samples = [[0.97, 0.975, 0.968], [0.98, 0.984], [0.95], [0.96, 0.962, 0.957, 0.966]]
    sd, df = pooled_sd(samples)
    residuals = np.concatenate([np.array(s) - np.mean(s) for s in samples if len(s) > 1])
    assert df == 2 + 1 + 3
    assert sd == pytest.approx(math.sqrt((residuals**2).sum() / df))
    # two samples of equal size: the pooled variance is the mean of the two variances
    a, b = [1.0, 2.0, 4.0], [3.0, 3.5, 7.0]
    expected = math.sqrt((statistics.variance(a) + statistics.variance(b)) / 2)
    assert pooled_sd([a, b])[0] == pytest.approx(expected)


def test_seed_noise_pools_replicates_and_verify_seeds() -> None:
    table = pd.DataFrame(
        {
            "number": [0, 1, 2, 3],
            "state": ["complete"] * 4,
            "accuracy": [0.97, 0.95, 0.974, 0.9],
            "arch_key": ["a", "b", "a", None],
        }
    )
    rows = [{"trial": 1, "seed": s, "accuracy": v} for s, v in [(1, 0.951), (2, 0.957)]]
    noise = seed_noise(table, rows)
    expected = math.sqrt(((0.97 - 0.972) ** 2 * 2 + (0.951 - 0.954) ** 2 * 2) / 2)
    assert (noise.sd, noise.df, noise.architectures) == (pytest.approx(expected), 2, 2)
    assert noise.source == "measured" and "measured" in noise.describe()


def test_without_repeats_the_seed_noise_is_assumed_and_says_so() -> None:
    table = pd.DataFrame({"number": [0], "state": ["complete"], "accuracy": [0.97]})
    noise = seed_noise(table, [])
    assert noise.assumed and noise.sd == ASSUMED_SEED_SD
    assert "assumed" in noise.describe()


def test_noise_columns_combine_both_noises_in_quadrature() -> None:
    table = pd.DataFrame(
        {"state": ["complete", "failed"], "accuracy": [0.9, np.nan], "val_images": [400, 400]}
    )
    found = add_noise_columns(table, seed_noise(table, []))
    assert found["accuracy_se_eval"][0] == pytest.approx(math.sqrt(0.9 * 0.1 / 400))
    assert found["accuracy_se"][0] == pytest.approx(math.hypot(0.015, ASSUMED_SEED_SD))
    assert found[["accuracy_se_eval", "accuracy_se_seed", "accuracy_se"]].iloc[1].isna().all()
