"""The evaluation noise of the class scores: how much balanced accuracy and macro F1 would
move on another validation split of the same size and class mix.

Accuracy on n images is a binomial proportion, with standard error sqrt(p (1 - p) / n).
The class scores weight the classes equally, so a rare class's few images count as much
as a common class's many, and their noise is larger than accuracy's on the same images:

- balanced accuracy is the mean of K recalls, each a proportion over its class's n_c
  images, so its variance is sum_c r_c (1 - r_c) / n_c / K**2. Each recall enters with
  the pseudo-counts of the Agresti-Coull interval, r_c = (hits + 2) / (n_c + 4), so a
  class scored 0 or 1 on a few images is not taken as noise-free.
- macro F1 is not a sum over images; its standard error is the SD of macro F1 over
  `DRAWS` confusion matrices whose rows are redrawn from the observed rows
  (multinomial, the class counts held fixed), with a fixed seed.

Both hold the class counts fixed, as a stratified split (nas/runs/noise.py) does.
Inputs are plain lists or arrays (no torch), so the analysis reads them from any run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DRAWS = 400
PSEUDO = 2.0  # Agresti-Coull: two hits and two misses added to each class's recall


def balanced_accuracy_se(confusion: Sequence[Sequence[int]]) -> float:
    """Standard error of balanced accuracy from one confusion matrix (rows: true class)."""
    counts = np.asarray(confusion, dtype=float)
    truth = counts.sum(axis=1)
    present = truth > 0
    if not present.any():
        return float("nan")
    hits, images = counts.diagonal()[present], truth[present]
    recall = (hits + PSEUDO) / (images + 2 * PSEUDO)
    return float(np.sqrt((recall * (1 - recall) / images).sum()) / present.sum())


def macro_f1_se(confusion: Sequence[Sequence[int]], draws: int = DRAWS, seed: int = 0) -> float:
    """Standard error of macro F1: its SD over confusion matrices redrawn row by row."""
    counts = np.asarray(confusion, dtype=np.int64)
    truth = counts.sum(axis=1)
    if truth.sum() == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    redrawn = np.zeros((draws, *counts.shape), dtype=np.int64)
    for row, images in enumerate(truth):
        if images:
            redrawn[:, row, :] = rng.multinomial(images, counts[row] / images, size=draws)
    return float(np.std(_macro_f1(redrawn), ddof=1))


def _macro_f1(confusions: np.ndarray) -> np.ndarray:
    """Macro F1 of each of a stack of confusion matrices, as evaluators/class_metrics.py."""
    hits = np.diagonal(confusions, axis1=1, axis2=2).astype(float)
    truth, predicted = confusions.sum(axis=2), confusions.sum(axis=1)
    occurs = (truth + predicted) > 0
    f1 = np.divide(2 * hits, truth + predicted, out=np.zeros_like(hits), where=occurs)
    return f1.sum(axis=1) / np.maximum(occurs.sum(axis=1), 1)


def class_score_errors(confusion: Sequence[Sequence[int]]) -> dict[str, float]:
    """{"balanced_accuracy_se_eval": .., "macro_f1_se_eval": ..}: what a trial records."""
    return {
        "balanced_accuracy_se_eval": balanced_accuracy_se(confusion),
        "macro_f1_se_eval": macro_f1_se(confusion),
    }
