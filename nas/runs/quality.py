"""Which trials did not learn: accuracy at chance, or far below the rest of the run.

A model that scores what always answering the most frequent class scores has learned
nothing, whatever its FLOPs; on a Pareto front it still looks like the cheapest member.
Each complete trial gets a ``quality`` mark in trials.csv:

- ``chance``: its accuracy is within ``max(3 standard errors, 2 points)`` of the chance
  level, the share of the validation split's most frequent class (``chance_accuracy``,
  recorded by training; 1/classes on a balanced split). The standard error is the
  binomial one of that chance level on the run's validation images; the 2-point floor
  shrinks to half the room above chance on a split one class nearly fills.
- ``far_below``: Tukey's "far out" rule on the run's complete accuracies (below the lower
  quartile by more than 3 interquartile ranges), and also more than 5 of its own
  standard errors (`accuracy_se`) below the median, so noise alone never marks one.
  Judged only with at least 5 complete trials.
- blank: neither.

`nas export --pick pareto` (and knee, best-accuracy) skips marked trials and says so;
`--include-chance` keeps them. The report and the page show the mark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

CHANCE, FAR_BELOW = "chance", "far_below"
CHANCE_SE = 3.0  # standard errors of the chance level that still count as chance
CHANCE_FLOOR = 0.02  # ... and never less than 2 points
FENCE_IQR = 3.0  # Tukey's far-out fence
FAR_SE = 5.0  # and this many of the trial's own standard errors below the median
MIN_TRIALS = 5  # fewer complete trials: no quartiles worth the name
WHY = {
    CHANCE: "scored at chance level (what answering the most frequent class scores)",
    FAR_BELOW: "scored far below the rest of the run (a failed training, most likely)",
}


def add_quality_column(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with a ``quality`` column: "chance", "far_below" or blank."""
    import numpy as np
    import pandas as pd

    from nas.runs.format import COMPLETE
    from nas.runs.noise import binomial_se, val_images

    quality = pd.Series("", index=table.index, dtype=object)
    if "accuracy" not in table.columns or table.empty:
        return table.assign(quality=quality)
    accuracy = pd.to_numeric(table["accuracy"], errors="coerce")
    complete = (table["state"] == COMPLETE) & accuracy.notna()
    if "chance_accuracy" in table.columns:
        chance = pd.to_numeric(table["chance_accuracy"], errors="coerce")
        floor = np.minimum(CHANCE_FLOOR, (1.0 - chance) / 2)
        margin = np.maximum(CHANCE_SE * binomial_se(chance, val_images(table)), floor)
        quality[complete & (accuracy <= chance + margin)] = CHANCE
    scores = accuracy[complete]
    if len(scores) >= MIN_TRIALS:
        q1, median, q3 = scores.quantile([0.25, 0.5, 0.75])
        se = pd.to_numeric(table.get("accuracy_se", 0.0), errors="coerce").fillna(0.0)
        far = (accuracy < q1 - FENCE_IQR * (q3 - q1)) & (accuracy < median - FAR_SE * se)
        quality[complete & far & (quality == "")] = FAR_BELOW
    return table.assign(quality=quality)


def marked(table: pd.DataFrame, numbers: list[int]) -> dict[int, str]:
    """{trial number: its mark} for the marked ones among `numbers`."""
    if "quality" not in table.columns:
        return {}
    marks = dict(zip(table["number"].astype(int), table["quality"].fillna("")))
    return {n: marks[n] for n in numbers if marks.get(n)}
