"""Axis helpers for the report's figures: readable log ticks, the accuracy range, budgets.

plotly labels the minor ticks of a log axis with their first digit only ("2 3 ... 100M
2"), so 20M and 200M both read "2", and a front spanning less than a decade (648k to
922k) gets no label inside it. The ticks here are chosen from the data instead: a
1-2-5 series per decade, refined (1, 1.5, 2, 3, 5, 7, then every digit) until at least
four fall inside the range, each labelled in full ("700k", "1.5M").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

_MANTISSAS = ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9))
_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
OUTLIER_IQRS = 3.0  # Tukey's far-out fence: below Q1 - 3 IQR


def short_label(value: float) -> str:
    """700000 -> '700k', 1500000 -> '1.5M', 20 -> '20'."""
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g}{prefix}"
    return f"{value:.3g}"


def log_ticks(values: Sequence[float], least: int = 4) -> dict[str, Any]:
    """tickvals/ticktext for a log axis over `values` (positive), every tick labelled."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return {}
    low, high = min(positive), max(positive)
    ticks: list[float] = []
    for mantissas in _MANTISSAS:
        ticks = [
            m * 10.0**decade
            for decade in range(math.floor(math.log10(low)), math.floor(math.log10(high)) + 1)
            for m in mantissas
            if low * 0.95 <= m * 10.0**decade <= high * 1.05
        ]
        if len(ticks) >= least:
            break
    if len(ticks) > 12:  # many decades: the decades alone
        ticks = [t for t in ticks if math.log10(t).is_integer()] or ticks[::3]
    return {"tickvals": ticks, "ticktext": [short_label(t) for t in ticks]}


def accuracy_range(front: Sequence[float], shown: Sequence[float]) -> list[float] | None:
    """A y range that keeps the front readable when one member lies far below the rest
    (below Q1 - 3 IQR of the front's accuracies); None when no member does."""
    if len(front) < 4:
        return None
    ordered = sorted(front)
    q1, q3 = _quantile(ordered, 0.25), _quantile(ordered, 0.75)
    fence = q1 - OUTLIER_IQRS * max(q3 - q1, 0.005)
    kept = [a for a in shown if a >= fence]
    if len(kept) == len(shown) or not kept:
        return None
    pad = max(0.01, 0.05 * (max(kept) - min(kept)))
    return [min(kept) - pad, max(kept) + pad]


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def flops_budgets(names: Sequence[str]) -> list[tuple[str, float]]:
    """(name, bound) of the FLOPs budgets among analysis budget names ('flops<=5e6')."""
    from nas.runs.analysis.bootstrap import parse_budget
    from search_space.errors import SpaceError

    found = []
    for name in names:
        try:
            budget = parse_budget(name)
        except SpaceError:  # "any budget"
            continue
        if budget.column == "flops":
            found.append((name, budget.bound))
    return found
