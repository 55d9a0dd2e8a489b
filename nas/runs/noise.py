"""The noise behind every accuracy a run reports: evaluation noise and training noise.

A trial's accuracy is one training seed scored on one finite validation split, so it
carries two noises:

- evaluation noise: which images the split happens to hold. For a model of true accuracy
  p scored on n images the count of correct images is binomial, so its standard error is
  ``sqrt(p * (1 - p) / n)`` (0.44 points at 98% on mnist5k's 1,000 validation images).
- training noise: which seed trained it. Measured as the pooled standard deviation of
  repeated seeds of one architecture, from whatever the run holds: re-proposed
  architectures trained with a fresh seed (``replicate_of``, nas/engine/replicates.py) and
  `nas verify`'s retrainings (verify.csv, validation accuracy). The pooled variance is
  ``sum((k_i - 1) * s_i**2) / sum(k_i - 1)`` over architectures i with k_i >= 2 seeds
  (the usual pooled estimate: it assumes one seed variance for every architecture).
  Without any repeat the SD is ASSUMED_SEED_SD, and every output says it was assumed.

Balanced accuracy and macro F1 weight the classes equally, so their evaluation noise is
not the binomial of their value: each trial records it from its confusion matrix
(``<score>_se_eval``, evaluators/class_noise.py), and `evaluation_se` reads it for the
analysis of a search on that score; `seed_noise(..., score)` pools that score's repeats.

``accuracy_se`` = sqrt(se_eval**2 + se_seed**2). The two overlap (a seed's accuracy on a
fixed split already varies by the images it gets right by chance), so the sum is a
little conservative; it is what a single trial's score should be read with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# 0.6 points: the top of what `nas verify` measured on the demo front (0.21-0.62 points of
# seed-to-seed SD, 3 seeds each, mnist5k, 6 epochs). Used only where a run has no repeat.
ASSUMED_SEED_SD = 0.006
ASSUMED_VAL_IMAGES = 1000  # runs recorded before val_images was: mnist5k's split
NOISE_COLUMNS = ("accuracy_se_eval", "accuracy_se_seed", "accuracy_se")


def binomial_se(accuracy: Any, images: Any) -> Any:
    """sqrt(p (1 - p) / n): the standard error of an accuracy measured on n images."""
    import numpy as np

    p = np.clip(np.asarray(accuracy, dtype=float), 0.0, 1.0)
    return np.sqrt(p * (1.0 - p) / np.asarray(images, dtype=float))


@dataclass(frozen=True)
class SeedNoise:
    """Seed-to-seed standard deviation of accuracy and where it comes from."""

    sd: float
    df: int  # degrees of freedom behind it: sum(k_i - 1); 0 when assumed
    architectures: int  # architectures with repeated seeds
    source: str  # "measured" or "assumed"
    score: str = "accuracy"  # what it is the noise of

    @property
    def assumed(self) -> bool:
        return self.source == "assumed"

    def describe(self) -> str:
        points = f"{100 * self.sd:.2f} points"
        if self.score != "accuracy":
            points += f" of {self.score}"
        if self.assumed:
            return (
                f"seed SD {points} assumed (this run repeats no architecture; "
                "`nas verify` measures it)"
            )
        return (
            f"seed SD {points} measured ({self.architectures} architectures with repeated "
            f"seeds, {self.df} degrees of freedom)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "describe": self.describe()}


def pooled_sd(samples: list[list[float]]) -> tuple[float, int]:
    """Pooled standard deviation of several samples and its degrees of freedom; samples of
    one value add nothing. (nan, 0) when no sample has two values."""
    squares, df = 0.0, 0
    for values in samples:
        k = len(values)
        if k < 2:
            continue
        mean = sum(values) / k
        squares += sum((v - mean) ** 2 for v in values)
        df += k - 1
    return (math.sqrt(squares / df), df) if df else (math.nan, 0)


def replicate_samples(
    table: pd.DataFrame, verify_rows: list[dict[str, Any]], score: str = "accuracy"
) -> list[list[float]]:
    """Repeated-seed values of `score` per architecture: the run's replicates (complete
    trials sharing an arch_key), and verify.csv's seeds per member (its fresh seeds only)."""
    import pandas as pd

    samples: list[list[float]] = []
    if "arch_key" in table.columns and score in table.columns:
        done = table[(table["state"] == "complete") & table["arch_key"].notna()]
        for _, rows in done.groupby("arch_key"):
            values = pd.to_numeric(rows[score], errors="coerce").dropna().tolist()
            if len(values) >= 2:
                samples.append(values)
    by_trial: dict[int, list[float]] = {}
    for row in verify_rows:
        value = row.get(score)
        if value is not None and value != "" and math.isfinite(float(value)):
            by_trial.setdefault(int(row["trial"]), []).append(float(value))
    samples += [v for v in by_trial.values() if len(v) >= 2]
    return samples


def seed_noise(
    table: pd.DataFrame, verify_rows: list[dict[str, Any]], score: str = "accuracy"
) -> SeedNoise:
    """The run's seed noise of `score` (the search's accuracy objective): pooled from its
    repeats, else assumed (ASSUMED_SEED_SD)."""
    samples = replicate_samples(table, verify_rows, score)
    sd, df = pooled_sd(samples)
    if not df:
        return SeedNoise(ASSUMED_SEED_SD, 0, 0, "assumed", score)
    return SeedNoise(sd, df, sum(len(s) >= 2 for s in samples), "measured", score)


def evaluation_se(table: pd.DataFrame, score: str = "accuracy") -> tuple[Any, str]:
    """Each row's evaluation standard error of `score`, and how it was found.

    Accuracy: binomial on the row's validation images. Balanced accuracy and macro F1:
    the row's own ``<score>_se_eval``, computed from its confusion matrix when it was
    scored (evaluators/class_noise.py); a row without one gets the binomial of its score,
    which understates the noise of a score that weights rare classes up, and the method
    says so."""
    import numpy as np
    import pandas as pd

    value = pd.to_numeric(table[score], errors="coerce") if score in table else None
    binomial = pd.Series(binomial_se(value, val_images(table)), index=table.index)
    if score == "accuracy" or value is None:
        return binomial, BINOMIAL
    column = f"{score}_se_eval"
    recorded = (
        pd.to_numeric(table[column], errors="coerce")
        if column in table
        else pd.Series(np.nan, index=table.index)
    )
    found = recorded.where(recorded.notna(), binomial)
    if recorded[value.notna()].notna().all():
        return found, FROM_CONFUSION
    return found, BINOMIAL_APPROXIMATE


BINOMIAL = "binomial on the validation images"
FROM_CONFUSION = "from each trial's confusion matrix, the classes weighted as the score does"
BINOMIAL_APPROXIMATE = (
    "binomial on the validation images, an approximation: some trials recorded no "
    "confusion matrix, and a score that weights rare classes up is noisier than that"
)


def val_images(table: pd.DataFrame) -> Any:
    """Validation images behind each row's accuracy (ASSUMED_VAL_IMAGES where unrecorded)."""
    import pandas as pd

    if "val_images" not in table.columns:
        return pd.Series(ASSUMED_VAL_IMAGES, index=table.index, dtype=float)
    return pd.to_numeric(table["val_images"], errors="coerce").fillna(ASSUMED_VAL_IMAGES)


def add_noise_columns(table: pd.DataFrame, noise: SeedNoise) -> pd.DataFrame:
    """`table` with accuracy_se_eval, accuracy_se_seed and accuracy_se (blank where the
    trial has no accuracy)."""
    import numpy as np
    import pandas as pd

    if "accuracy" not in table.columns:
        return table
    accuracy = pd.to_numeric(table["accuracy"], errors="coerce")
    evaluation = pd.Series(binomial_se(accuracy, val_images(table)), index=table.index)
    seed = pd.Series(np.where(accuracy.notna(), noise.sd, np.nan), index=table.index)
    return table.assign(
        accuracy_se_eval=evaluation,
        accuracy_se_seed=seed,
        accuracy_se=np.sqrt(evaluation**2 + seed**2),
    )
