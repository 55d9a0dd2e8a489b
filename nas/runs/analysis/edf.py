"""Error empirical distribution functions (EDFs), as in Radosavovic et al. 2020,
"Designing Network Design Spaces", eq. (1):

    F(e) = (1/n) * sum_i 1[e_i <= e]

the fraction of a design space's models whose error is at most `e`. Comparing EDFs of two
groups compares the whole population of models each design choice gives, not just the
single best one. The paper compares models of similar complexity; `band` restricts the
rows to a FLOPs (or params) interval before the EDF is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from search_space.errors import SpaceError


@dataclass(frozen=True)
class Band:
    """Rows whose `column` lies in [low, high] (either end may be open: None)."""

    column: str
    low: float | None = None
    high: float | None = None

    def mask(self, table: pd.DataFrame) -> pd.Series:
        values = pd.to_numeric(table[self.column], errors="coerce")
        keep = values.notna()
        if self.low is not None:
            keep &= values >= self.low
        if self.high is not None:
            keep &= values <= self.high
        return keep

    def __str__(self) -> str:
        low = "" if self.low is None else f"{self.low:g}".replace("e+0", "e")
        high = "" if self.high is None else f"{self.high:g}".replace("e+0", "e")
        return f"{self.column}={low}:{high}"


def parse_band(text: str) -> Band:
    """`flops=1e6:5e6` (either bound may be left out: `params=:2e4`)."""
    name, sep, bounds = text.partition("=")
    low, colon, high = bounds.partition(":")
    if not sep or not colon or not name.strip():
        raise SpaceError(f"band {text!r}: write COLUMN=LOW:HIGH, e.g. flops=1e6:5e6")
    try:
        values = [float(v) if v.strip() else None for v in (low, high)]
    except ValueError:
        raise SpaceError(f"band {text!r}: bounds must be numbers, e.g. flops=1e6:5e6") from None
    if any(v is not None and not np.isfinite(v) for v in values):
        raise SpaceError(f"band {text!r}: bounds must be finite numbers, e.g. flops=1e6:5e6")
    if None not in values and values[0] > values[1]:
        raise SpaceError(
            f"band {text!r}: the low bound is above the high one; did you mean "
            f"{name.strip()}={high.strip()}:{low.strip()}?"
        )
    return Band(name.strip(), values[0], values[1])


def error_edf(errors: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(e, F(e)) at each distinct error, sorted: the EDF's steps. Empty input -> empty."""
    values = np.asarray(errors, dtype=float)
    values = np.sort(values[np.isfinite(values)])
    if values.size == 0:
        return values, values
    distinct, counts = np.unique(values, return_counts=True)
    return distinct, np.cumsum(counts) / values.size


def edf_at(errors: np.ndarray | list[float], points: np.ndarray | list[float]) -> np.ndarray:
    """F evaluated at `points` (for tables and for comparing two EDFs on one grid)."""
    values = np.sort(np.asarray(errors, dtype=float))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.full(len(points), np.nan)
    return np.searchsorted(values, np.asarray(points, dtype=float), side="right") / values.size
