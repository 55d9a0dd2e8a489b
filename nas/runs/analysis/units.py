"""Architectures as the units a winner call compares, and the candidates it retrains.

A run may train one architecture more than once (a re-proposal trained with a fresh seed,
nas/engine/replicates.py); such trials are one unit, scored by their mean, so a repeated
architecture neither counts twice nor gets two draws at the maximum. A unit's standard
error is sqrt(seed_sd**2 / k + se_eval**2) for k seeds, se_eval the evaluation noise of
the score on the validation split (binomial for accuracy, from the confusion matrix for
the class scores: the `se_eval` column of the rows, nas/runs/noise.py).

The candidates of a group under a budget are the units that could be its best within
noise: those whose validation score is within 1.96 standard errors of a difference of the
group's best score, at most `limit` of them, best first. The group's champion is its best
unit on the search's own validation scores: fixed before any retraining, so its score on
the test split is free of the winner's curse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas.runs.noise import SeedNoise, binomial_se, val_images

Z_95 = 1.959963984540054
CANDIDATES = 3  # retrained per group and budget by default


@dataclass(frozen=True)
class Unit:
    """One architecture: its trials' validation scores summarised."""

    number: int  # its first trial
    trials: tuple[int, ...]
    mean: float  # mean validation accuracy over its seeds
    seeds: int
    se: float
    val_images: int
    se_eval: float = math.nan  # its evaluation noise alone (nas/runs/noise.py)


def units_of(table: pd.DataFrame, seed: SeedNoise) -> list[Unit]:
    """`table`'s rows (one group's eligible trials) merged by arch_key, best first."""
    if table.empty:
        return []
    keys = table["arch_key"] if "arch_key" in table.columns else pd.Series(np.nan, table.index)
    keys = keys.where(keys.notna(), "#" + table["number"].astype(str))
    accuracy = pd.to_numeric(table["accuracy"], errors="coerce")
    images = val_images(table)
    recorded = table["se_eval"] if "se_eval" in table else pd.Series(np.nan, table.index)
    found = []
    for _, index in table.groupby(keys, sort=False).groups.items():
        values = accuracy.loc[index].to_numpy(float)
        numbers = sorted(int(n) for n in table.loc[index, "number"])
        mean, count = float(values.mean()), len(values)
        n_val = int(images.loc[index].min())
        se_eval = float(pd.to_numeric(recorded.loc[index], errors="coerce").mean())
        if not math.isfinite(se_eval):  # the same images for every seed: it does not shrink
            se_eval = float(binomial_se(mean, n_val))
        se = math.sqrt(seed.sd**2 / count + se_eval**2)
        found.append(Unit(numbers[0], tuple(numbers), mean, count, se, n_val, se_eval))
    return sorted(found, key=lambda u: (-u.mean, u.number))


def candidates(units: list[Unit], limit: int = CANDIDATES) -> list[Unit]:
    """The units that could be the group's best within noise (see module docstring)."""
    if not units:
        return []
    best = units[0]
    close = [u for u in units if best.mean - u.mean <= Z_95 * math.hypot(best.se, u.se)]
    return close[:limit]
