"""Mean, standard deviation and a Student-t confidence interval of a few repeated scores,
and Welch's t-test between two members.

With n seeds the interval is mean +/- t(0.975, n-1) * s / sqrt(n), s the sample standard
deviation (n-1 in the denominator). The t quantile comes from scipy when it is installed,
else from the small table below (two-sided 95%, the printed tables' values).
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass

CONFIDENCE = 0.95
# Metrics that live in [0, 1]: their intervals are clipped to it, and say so.
UNIT_RANGE = frozenset({"accuracy", "test_accuracy", "balanced_accuracy", "macro_f1"})
# Two-sided 95% quantiles t(0.975, df); a df between rows uses the row below (wider).
T_TABLE_95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
    16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074,
    23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045,
    30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}  # fmt: skip
Z_95 = 1.960


@dataclass(frozen=True)
class Interval:
    n: int
    mean: float
    std: float  # sample standard deviation; 0 with one value
    low: float  # NaN bounds with one value: no interval from a single run
    high: float
    clipped: bool = False  # the t-interval reached past the metric's range and was cut

    def overlaps(self, other: Interval) -> bool:
        """True when the two intervals share a point (or either has none)."""
        if any(math.isnan(v) for v in (self.low, self.high, other.low, other.high)):
            return True
        return self.low <= other.high and other.low <= self.high

    def to_dict(self) -> dict[str, float | int | None]:
        def plain(value: float) -> float | None:
            return None if math.isnan(value) else value

        return {
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "low": plain(self.low),
            "high": plain(self.high),
            "clipped": self.clipped,
        }


def t_quantile(df: int) -> float:
    """t(0.975, df): scipy's when available, else the table (conservative between rows)."""
    try:
        from scipy.stats import t
    except ImportError:
        rows = [row for row in T_TABLE_95 if row <= df]
        return T_TABLE_95[max(rows)] if df <= 120 else Z_95
    return float(t.ppf(0.5 + CONFIDENCE / 2, df))


def t_interval(values: list[float], bounds: tuple[float, float] | None = None) -> Interval:
    """The 95% Student-t interval of the mean of `values` (at least one). With `bounds`
    (a metric's range, e.g. (0, 1) for accuracy) an interval reaching past them is cut
    to them and marked `clipped`: the t-interval assumes a normal spread, which a
    bounded metric with few seeds does not have, so a clipped interval says "too few
    seeds" rather than where the mean lies."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return Interval(n, mean, 0.0, math.nan, math.nan)
    std = statistics.stdev(values)
    half = t_quantile(n - 1) * std / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is None or (bounds[0] <= low and high <= bounds[1]):
        return Interval(n, mean, std, low, high)
    return Interval(n, mean, std, max(low, bounds[0]), min(high, bounds[1]), clipped=True)


def metric_bounds(name: str) -> tuple[float, float] | None:
    """(0, 1) for a metric in UNIT_RANGE, else None (no known range)."""
    return (0.0, 1.0) if name in UNIT_RANGE else None


def welch_p(first: list[float], second: list[float]) -> float | None:
    """Two-sided p-value of Welch's t-test; None without scipy, fewer than 2 values each,
    or no spread at all."""
    if len(first) < 2 or len(second) < 2:
        return None
    if statistics.stdev(first) == 0 and statistics.stdev(second) == 0:
        return None
    try:
        from scipy.stats import ttest_ind
    except ImportError:
        return None
    with warnings.catch_warnings():  # nearly equal samples: scipy warns, the p is still ~1
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(ttest_ind(first, second, equal_var=False).pvalue)
