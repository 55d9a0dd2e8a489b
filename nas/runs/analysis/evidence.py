"""What a run holds beyond its single-seed scores: its seed noise and the test-split
scores of retrained candidates (verify.csv's test_correct), read once per analysis."""

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


def unpack_correct(text: str, images: int) -> np.ndarray:
    """The inverse of pack_correct, `images` long."""
    packed = np.frombuffer(bytes.fromhex(text[len(BITS_PREFIX) :]), dtype=np.uint8)
    return np.unpackbits(packed)[:images].astype(bool)


@dataclass(frozen=True)
class Evidence:
    """Seed noise and test tables of one run; `command` is how to retrain (None in a
    comparison of runs, where each run is verified on its own)."""

    seed: SeedNoise
    tests: dict[int, np.ndarray] = field(default_factory=dict)  # trial -> (seeds, images)
    command: str | None = None


def retrained_tables(rows: list[dict[str, Any]]) -> dict[int, np.ndarray]:
    """verify.csv rows with test scores, as one (seeds, images) table per trial."""
    found: dict[int, list[np.ndarray]] = {}
    for row in rows:
        text, images = row.get("test_correct"), row.get("test_images")
        if not isinstance(text, str) or images is None or not math.isfinite(float(images)):
            continue
        found.setdefault(int(row["trial"]), []).append(unpack_correct(text, int(images)))
    return {
        trial: np.stack(rows) for trial, rows in found.items() if len({len(r) for r in rows}) == 1
    }


def run_evidence(table: pd.DataFrame, rows: list[dict[str, Any]], command: str | None) -> Evidence:
    return Evidence(seed_noise(table, rows), retrained_tables(rows), command)
