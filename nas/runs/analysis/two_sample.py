"""Do two runs' (or groups') error distributions differ? The two-sample
Kolmogorov-Smirnov test: its statistic is the largest vertical gap between the two
EDFs, the very curves the report draws. The p-value is SciPy's exact/asymptotic one when
SciPy is installed, else a permutation p-value of the same statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PERMUTATIONS = 2000


@dataclass(frozen=True)
class TwoSampleTest:
    statistic: float  # sup |F_a(e) - F_b(e)|
    p_value: float
    method: str  # "ks (scipy)" or "ks (permutation, N)"
    sizes: tuple[int, int]


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """sup over e of |F_a(e) - F_b(e)|, evaluated at every observed value."""
    grid = np.concatenate([a, b])
    fa = np.searchsorted(np.sort(a), grid, side="right") / a.size
    fb = np.searchsorted(np.sort(b), grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def _permutation_p(a: np.ndarray, b: np.ndarray, seed: int, permutations: int) -> float:
    observed = ks_statistic(a, b)
    pooled, rng = np.concatenate([a, b]), np.random.default_rng(seed)
    hits = 0
    for _ in range(permutations):
        shuffled = rng.permutation(pooled)
        hits += ks_statistic(shuffled[: a.size], shuffled[a.size :]) >= observed - 1e-12
    return (hits + 1) / (permutations + 1)  # never 0: the observed split is one permutation


def compare_distributions(
    a: np.ndarray | list[float], b: np.ndarray | list[float], seed: int = 0
) -> TwoSampleTest | None:
    """KS test of two samples (NaNs dropped); None when either is empty."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return None
    try:
        from scipy.stats import ks_2samp
    except ImportError:
        p = _permutation_p(a, b, seed, PERMUTATIONS)
        method = f"ks (permutation, {PERMUTATIONS})"
        return TwoSampleTest(ks_statistic(a, b), p, method, (a.size, b.size))
    result = ks_2samp(a, b)
    statistic, p = float(result.statistic), float(result.pvalue)
    return TwoSampleTest(statistic, p, "ks (scipy)", (a.size, b.size))
