"""Do the group labels matter? A permutation test of the difference of the groups' bests.

Under the null that the design choice (conv or hybrid, ...) does not change accuracy, the
labels of the two groups' architectures are exchangeable: any relabelling with the same
group sizes is as likely as the observed one, noise and all. The statistic is the
difference of the groups' best scores, D = max(A) - max(B); its permutation distribution
is enumerated exactly when there are at most EXACT_LIMIT relabellings, else drawn
`resamples` times (seeded). The two-sided p-value is 2 * min(P(D* >= D), P(D* <= D)),
capped at 1 (the distribution of a difference of maxima is skewed when the groups differ
in size, so the two tails are read separately).

This is what separates "the best conv found beats the best hybrid found" from "conv beats
hybrid": with 4 and 8 architectures, a lead is only unusual under random labels when the
leading group holds several of the top scores. When the leader holds the top m scores
and the other group's best is the (m+1)-th, P(D* >= D) = C(n - m, n_A - m) / C(n, n_A)
(tests/nas/runs/analysis/test_permutation.py checks the enumeration against it).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

EXACT_LIMIT = 20_000
RESAMPLES = 5_000


def _differences(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """max over the True positions minus max over the False ones, one per mask row."""
    first = np.where(masks, values, -np.inf).max(axis=1)
    second = np.where(~masks, values, -np.inf).max(axis=1)
    return first - second


def _masks(n: int, n_first: int, seed: int, resamples: int) -> np.ndarray:
    if math.comb(n, n_first) <= EXACT_LIMIT:
        masks = np.zeros((math.comb(n, n_first), n), dtype=bool)
        for row, chosen in enumerate(itertools.combinations(range(n), n_first)):
            masks[row, list(chosen)] = True
        return masks
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((resamples, n)), axis=1)
    return order < n_first


def label_permutation_p(
    first: np.ndarray, second: np.ndarray, seed: int = 0, resamples: int = RESAMPLES
) -> float | None:
    """Two-sided p-value of max(first) - max(second) under random labels (see module
    docstring); None when a group is empty."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if first.size == 0 or second.size == 0:
        return None
    values = np.concatenate([first, second])
    observed = first.max() - second.max()
    masks = _masks(values.size, first.size, seed, resamples)
    found = _differences(values, masks)
    tolerance = 1e-12
    upper, lower = np.sum(found >= observed - tolerance), np.sum(found <= observed + tolerance)
    drawn = len(masks) < math.comb(values.size, first.size)
    # A drawn sample counts the observed labelling once more (Phipson & Smyth 2010), so
    # the p-value stays valid; an enumeration already holds it.
    total = len(masks) + drawn
    return min(1.0, 2.0 * (min(upper, lower) + drawn) / total)
