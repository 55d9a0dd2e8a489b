"""Best accuracy under a budget, with a bootstrap 95% interval, and the winner call.

The interval is the percentile bootstrap (Efron & Tibshirani 1993, ch. 13): resample the
group's eligible trials with replacement `resamples` times, take the best of each resample,
and read the 2.5th and 97.5th percentiles. Exactly:

    rng = numpy.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, n))
    best = values[draws].max(axis=1)
    low, high = numpy.percentile(best, [2.5, 97.5])

`call_winner` is the winner call `nas analyze` made before the noise-aware one
(nas/runs/analysis/winner.py), kept as the baseline of benchmarks/winner_calibration.py: it
bootstraps the difference of the two groups' best single-seed scores (each group resampled
on its own, the first group's draws taken first from the same generator) and calls a clear
win when that interval lies above zero. It treats every score as exact, so it ignores seed
and evaluation noise and the winner's curse: 14-16% false clear wins under nulls with the
demo's noise, which is why the analysis no longer uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from search_space.errors import SpaceError

RESAMPLES = 2000
LEVEL = 0.95
FEW = 5  # a group with fewer eligible trials gets its winner call flagged
_BUDGET = re.compile(r"\s*([A-Za-z_][\w.]*)\s*<=\s*([0-9.eE+-]+)\s*")


@dataclass(frozen=True)
class Budget:
    """Trials whose `column` is at most `bound` (e.g. flops<=5e6)."""

    column: str
    bound: float

    def mask(self, table: pd.DataFrame) -> pd.Series:
        return pd.to_numeric(table[self.column], errors="coerce") <= self.bound

    def __str__(self) -> str:
        return f"{self.column}<={short_number(self.bound)}"


def short_number(value: float) -> str:
    """5000000.0 -> '5e6', 0.5 -> '0.5': how a user would type it."""
    return f"{value:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def parse_budget(text: str) -> Budget:
    match = _BUDGET.fullmatch(text)
    try:
        bound = float(match.group(2)) if match else None
    except ValueError:
        bound = None
    if match is None or bound is None:
        raise SpaceError(f"budget {text!r}: write COLUMN<=NUMBER, e.g. flops<=5e6")
    return Budget(match.group(1), bound)


def _percentiles(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_best(
    values: np.ndarray, rng: np.random.Generator, resamples: int = RESAMPLES
) -> np.ndarray:
    """The best (max) of each of `resamples` resamples of `values`: shape (resamples,)."""
    values = np.asarray(values, dtype=float)
    draws = rng.integers(0, values.size, size=(resamples, values.size))
    return values[draws].max(axis=1)


@dataclass(frozen=True)
class BestEstimate:
    best: float | None  # None: no eligible trial in the group under the budget
    low: float | None
    high: float | None
    count: int  # eligible trials the estimate rests on


def best_with_interval(
    values: np.ndarray, seed: int = 0, resamples: int = RESAMPLES, level: float = LEVEL
) -> BestEstimate:
    """The best value and its percentile-bootstrap interval (see the module docstring)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return BestEstimate(None, None, None, 0)
    samples = bootstrap_best(values, np.random.default_rng(seed), resamples)
    low, high = _percentiles(samples, level)
    return BestEstimate(float(values.max()), low, high, int(values.size))


@dataclass(frozen=True)
class WinnerCall:
    winner: str | None  # None: no group has an eligible trial
    runner_up: str | None
    difference: float | None  # winner's best minus the runner-up's
    low: float | None  # interval of the difference
    high: float | None
    clear: bool  # the interval lies above zero
    sizes: tuple[int, int] = (0, 0)  # trials behind the winner's and the runner-up's best

    def sentence(self, budget: str) -> str:
        if self.winner is None:
            return f"{budget}: no group has a complete trial under this budget"
        if self.runner_up is None:
            return f"{budget}: only {self.winner} has trials under this budget"
        verdict = (
            "larger than the interval: a clear win"
            if self.clear
            else "within the interval: no clear winner"
        )
        few = " (few trials: read as a hint)" if min(self.sizes) < FEW else ""
        return (
            f"{budget}: {self.winner} (n={self.sizes[0]}) beats {self.runner_up} "
            f"(n={self.sizes[1]}) by {self.difference:+.4f} "
            f"(95% interval {self.low:+.4f} to {self.high:+.4f}), {verdict}{few}"
        )


def call_winner(
    groups: dict[str, np.ndarray], seed: int = 0, resamples: int = RESAMPLES, level: float = LEVEL
) -> WinnerCall:
    """The group with the best value against the second best, by the bootstrap of the
    difference of their bests. Ties on the best go to the first group in sorted order."""
    bests = {k: float(np.max(v)) for k, v in sorted(groups.items()) if np.size(v)}
    ranked = sorted(bests, key=lambda k: -bests[k])
    if len(ranked) < 2:
        return WinnerCall(ranked[0] if ranked else None, None, None, None, None, False)
    first, second = ranked[:2]
    rng = np.random.default_rng(seed)
    difference = bootstrap_best(groups[first], rng, resamples) - bootstrap_best(
        groups[second], rng, resamples
    )
    low, high = _percentiles(difference, level)
    gap = bests[first] - bests[second]
    sizes = (int(np.size(groups[first])), int(np.size(groups[second])))
    return WinnerCall(first, second, gap, low, high, bool(low > 0), sizes)
