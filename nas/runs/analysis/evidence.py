"""What a run holds beyond its single-seed scores: its seed noise and the test-split
scores of retrained candidates (verify.csv's test_correct, and test_labels where the
score weights classes), read once per analysis.

The tested comparison (nas/runs/analysis/tested.py) takes each candidate's per-image
scores on the test split, one row per seed, whose mean over images is the score:

- accuracy: 1 where the seed got the image right, else 0;
- balanced accuracy: the same, times N / (K n_c) for an image of class c (N images, K
  classes present, n_c of them in class c), so each class weighs 1/K whatever its size.
  The comparison then treats images as drawn at random, not by class, which overstates
  the evaluation noise a little (the split is stratified);
- macro F1 does not split into per-image scores: a run that searched on it is compared
  on accuracy on the test split, and the call says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nas.runs.noise import SeedNoise, seed_noise

BITS_PREFIX = "x"  # verify.csv's test_correct: "x" + hex of numpy.packbits (never a number)


def pack_correct(correct: np.ndarray) -> str:
    """A 0/1 vector as verify.csv stores it (test_correct)."""
    return BITS_PREFIX + np.packbits(np.asarray(correct, dtype=bool)).tobytes().hex()


def pack_labels(labels: np.ndarray) -> str:
    """Class indices as verify.csv stores them (test_labels): "x" + hex of uint16."""
    return BITS_PREFIX + np.asarray(labels, dtype="<u2").tobytes().hex()


def unpack_labels(text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(text[len(BITS_PREFIX) :]), dtype="<u2").astype(np.int64)


def class_weights(labels: np.ndarray) -> np.ndarray:
    """N / (K n_c) per image: its per-image score's mean is then balanced accuracy."""
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels)
    present = int((counts > 0).sum())
    return len(labels) / (present * counts[labels])


def unpack_correct(text: str, images: int) -> np.ndarray:
    """The inverse of pack_correct, `images` long."""
    packed = np.frombuffer(bytes.fromhex(text[len(BITS_PREFIX) :]), dtype=np.uint8)
    return np.unpackbits(packed)[:images].astype(bool)


@dataclass(frozen=True)
class Evidence:
    """Seed noise and test tables of one run; `command` is how to retrain (None in a
    comparison of runs, where each run is verified on its own); `tested_on` is the score
    of the test tables (what `seed.score` is, unless the run's verify.csv cannot give it)."""

    seed: SeedNoise
    tests: dict[int, np.ndarray] = field(default_factory=dict)  # trial -> (seeds, images)
    command: str | None = None
    tested_on: str = "accuracy"


TESTED_SCORES = ("accuracy", "balanced_accuracy")  # those with per-image scores


def retrained_tables(
    rows: list[dict[str, Any]], score: str = "accuracy"
) -> tuple[dict[int, np.ndarray], str]:
    """verify.csv rows with test scores, as one (seeds, images) table per trial, and the
    score they hold: `score` where it splits into per-image scores and every row carries
    what it needs (test_labels for balanced accuracy), else accuracy."""
    tested_on = score if score in TESTED_SCORES else "accuracy"
    usable = [r for r in rows if isinstance(r.get("test_correct"), str)]
    if tested_on == "balanced_accuracy" and not all(
        isinstance(r.get("test_labels"), str) for r in usable
    ):
        tested_on = "accuracy"  # retrained before verify recorded the labels
    found: dict[int, list[np.ndarray]] = {}
    for row in usable:
        images = row.get("test_images")
        if images is None or not math.isfinite(float(images)):
            continue
        scores = unpack_correct(row["test_correct"], int(images)).astype(float)
        if tested_on == "balanced_accuracy":
            scores = scores * class_weights(unpack_labels(row["test_labels"]))
        found.setdefault(int(row["trial"]), []).append(scores)
    tables = {
        trial: np.stack(rows) for trial, rows in found.items() if len({len(r) for r in rows}) == 1
    }
    return tables, tested_on


def run_evidence(
    table: pd.DataFrame, rows: list[dict[str, Any]], command: str | None, score: str = "accuracy"
) -> Evidence:
    tables, tested_on = retrained_tables(rows, score)
    return Evidence(seed_noise(table, rows, score), tables, command, tested_on)
