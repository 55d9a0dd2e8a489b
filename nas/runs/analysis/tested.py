"""The winner call made on held-out images: two champions retrained with fresh seeds and
scored on the test split, compared with seeds as replicates and images paired.

For a model g retrained with S_g seeds and scored on the same N test images,
X_g[s, i] = 1 when seed s gets image i right. The difference of the two models' test
accuracies is d = mean(X_A) - mean(X_B). Its variance over fresh seeds and fresh images
from the same population has three parts (a two-way random-effects model,
X_g[s, i] = mu_g + a_g(s) + b_g(i) + c_g(s, i)):

    Var(d) = sigma2_a (1/S_A + 1/S_B)                    seed noise
           + Var_i(b_A(i) - b_B(i)) / N                  evaluation noise, images paired
           + sum_g sigma2_c,g / (S_g N)                  (seed-by-image: evaluation too)

Estimated, by the method of moments, as

    per seed    (1/S_A + 1/S_B) v, v = sum_c (S_c - 1) v_c / sum_c (S_c - 1) pooled over
                every retrained model c, v_c the variance of model c's per-seed accuracies
                (it estimates sigma2_a + sigma2_c / N: seed luck and the seed-by-image part)
    per image   (Var_i(e_i) - sum_g MS_g / S_g) / N, at least 0, with
                e_i = mean_s X_A[s, i] - mean_s X_B[s, i] (a paired comparison: images
                both models get right, or wrong, add nothing) and MS_g the residual mean
                square of model g's seeds-by-images table (it estimates sigma2_c, which
                the per-seed part already holds)

The printed split into seed noise and evaluation noise takes sigma2_a = v - mean MS_c / N
(at least 0) as seed noise and the rest, sigma2_c and the images' own part, as evaluation
noise.

The interval is d +/- t(0.975, df) sqrt(V), with Satterthwaite's degrees of freedom for
the per-seed part (sum_c (S_c - 1)) and the paired variance (N - 1), as Welch's test does
for the per-seed accuracies. (Subtracting MS_c / N from the per-seed part instead, and
giving it sum_c (S_c - 1) degrees of freedom, made 9.5% false wins at 0.5 points of seed
luck: that difference of mean squares varies as v_c does, not as sigma2_a would.)
Pooling assumes one seed variance for every retrained model; the calibration
(benchmarks/winner_calibration.py) draws each model's seed noise from the measured range
and checks the false-win rate stays at 5%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
Z_80 = 0.8416212335729143  # one-sided 80% power
Z_975 = 1.959963984540054


def t_quantile(df: float, level: float = LEVEL) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df))


@dataclass(frozen=True)
class SeedVariance:
    """Pooled over retrained models: the variance of per-seed accuracies (`between`,
    sigma2_a + sigma2_c / N) and its evaluation share (`within`, MS_c / N), with
    sum_c (S_c - 1) degrees of freedom. sigma2_a = between - within, at least 0."""

    between: float
    within: float
    df: int

    @property
    def variance(self) -> float:
        return max(0.0, self.between - self.within) if self.df else math.nan


def _mean_squares(table: np.ndarray) -> tuple[float, float]:
    """(variance of the per-seed accuracies, residual mean square) of a (seeds, images)
    table: a two-way ANOVA without replication."""
    seeds, images = table.shape
    rows = table.mean(axis=1)
    residual = table - rows[:, None] - table.mean(axis=0)[None, :] + table.mean()
    return float(rows.var(ddof=1)), float((residual**2).sum()) / ((seeds - 1) * (images - 1))


def seed_variance(tables: Sequence[np.ndarray]) -> SeedVariance:
    """sigma2_a pooled over retrained models, each a (seeds, images) 0/1 table."""
    between = within = 0.0
    df = 0
    for table in tables:
        table = np.asarray(table, dtype=float)
        seeds, images = table.shape
        if seeds < 2 or images < 2:
            continue
        rows_variance, mean_square = _mean_squares(table)
        between += (seeds - 1) * rows_variance
        within += (seeds - 1) * mean_square / images
        df += seeds - 1
    if not df:
        return SeedVariance(math.nan, math.nan, 0)
    return SeedVariance(between / df, within / df, df)


@dataclass(frozen=True)
class TestedDifference:
    difference: float  # test accuracy of A minus B
    low: float
    high: float
    seed_variance: float  # of the difference
    eval_variance: float
    df: float
    seeds: tuple[int, int]
    images: int

    @property
    def se(self) -> float:
        return math.sqrt(self.seed_variance + self.eval_variance)

    @property
    def clear(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def seed_share(self) -> float:
        total = self.seed_variance + self.eval_variance
        return self.seed_variance / total if total > 0 else 0.0

    def to_dict(self) -> dict[str, float | int | bool | list[int]]:
        return {
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "se": self.se,
            "df": self.df,
            "seeds": list(self.seeds),
            "test_images": self.images,
            "seed_share": self.seed_share,
            "eval_share": 1.0 - self.seed_share,
            "clear": self.clear,
        }


def compare_on_test(
    first: np.ndarray,
    second: np.ndarray,
    others: Sequence[np.ndarray] = (),
    level: float = LEVEL,
) -> TestedDifference:
    """The two champions' (seeds, images) tables on the same test images; `others`, the
    other retrained candidates, add degrees of freedom to the seed variance."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if first.shape[1] != second.shape[1]:
        raise ValueError(f"scored on {first.shape[1]} and {second.shape[1]} test images")
    images = first.shape[1]
    scale = 1 / first.shape[0] + 1 / second.shape[0]
    pooled = seed_variance([first, second, *others])
    # The per-seed part, as Welch's test would take it (seed luck and the seed-by-image
    # part together), then the images' own part of the paired difference.
    per_seed = scale * pooled.between
    paired = first.mean(axis=0) - second.mean(axis=0)
    paired_variance = float(paired.var(ddof=1)) / images
    overlap = [_mean_squares(t)[1] / (len(t) * images) for t in (first, second) if len(t) > 1]
    image_part = max(0.0, paired_variance - sum(overlap))
    total = per_seed + image_part
    # Satterthwaite over the mean squares; the image part's are on ~N df and add little.
    terms = per_seed**2 / pooled.df + paired_variance**2 / (images - 1)
    df = total**2 / terms if terms > 0 else float(images - 1)
    seed_part = scale * pooled.variance  # seed luck alone; the rest is evaluation noise
    half = t_quantile(df, level) * math.sqrt(total)
    difference = float(first.mean() - second.mean())
    return TestedDifference(
        difference,
        difference - half,
        difference + half,
        seed_part,
        total - seed_part,
        df,
        (first.shape[0], second.shape[0]),
        images,
    )


@dataclass(frozen=True)
class SampleSize:
    """What would resolve `difference` with 80% power at the two-sided 5% level."""

    difference: float
    resolvable_now: float  # the smallest difference the current design resolves
    seeds_needed: int | None  # per model, at the current test images; None: not by seeds
    images_needed: int | None  # at the current seeds; None: not by images alone


def sample_size(result: TestedDifference, difference: float | None = None) -> SampleSize:
    """Seeds per model (images fixed) or test images (seeds fixed) for 80% power against
    `difference` (default: the observed one), from the estimated variance parts (normal
    approximation: |difference| = (z_0.975 + z_0.8) * sd)."""
    target = abs(result.difference if difference is None else difference)
    factor = Z_975 + Z_80
    resolvable = factor * result.se
    wanted = (target / factor) ** 2 if target > 0 else 0.0
    seeds_now = 1 / (1 / result.seeds[0] + 1 / result.seeds[1]) * 2  # harmonic mean
    seed_unit = result.seed_variance * seeds_now / 2  # sigma2_a
    seeds = images = None
    if wanted > result.eval_variance and seed_unit > 0:
        seeds = max(2, math.ceil(2 * seed_unit / (wanted - result.eval_variance)))
    elif wanted > result.eval_variance:
        seeds = 2
    if wanted > result.seed_variance and result.eval_variance > 0:
        images = math.ceil(result.images * result.eval_variance / (wanted - result.seed_variance))
    return SampleSize(target, resolvable, seeds, images)
