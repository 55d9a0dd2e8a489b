"""One group of trials summarised: its front, its error EDF, its best under each budget.

Every function here is pure: a trials table (results/README.md) in, plain JSON-able
values out, so `nas analyze` (groups of one run) and `nas compare` (runs as groups) share
them, and the HTML report draws from the same document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nas.runs.analysis.bootstrap import Budget, best_with_interval, call_winner
from nas.runs.analysis.edf import Band, error_edf
from nas.runs.analysis.objectives import Goal, accuracy_goal, front_rows

FRONT_COLUMNS = ("number", "accuracy", "flops", "params", "summary")


def errors_of(table: pd.DataFrame, goals: Sequence[Goal], band: Band | None = None) -> np.ndarray:
    """1 - accuracy of the rows (inside `band` when given)."""
    rows = table[band.mask(table)] if band is not None else table
    score = pd.to_numeric(rows[accuracy_goal(goals).name], errors="coerce").to_numpy(float)
    return 1.0 - score


def _front(table: pd.DataFrame, goals: Sequence[Goal]) -> list[dict[str, Any]]:
    columns = [c for c in dict.fromkeys([*FRONT_COLUMNS, *(g.name for g in goals)]) if c in table]
    front = front_rows(table, goals)
    sort = "flops" if "flops" in front.columns else goals[-1].name
    records = front.sort_values(sort)[columns].to_dict("records")
    return [{k: _plain(v) for k, v in r.items()} for r in records]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def budget_values(table: pd.DataFrame, goals: Sequence[Goal], budget: Budget | None) -> np.ndarray:
    """The accuracy of the rows within `budget` (all rows when None)."""
    rows = table[budget.mask(table)] if budget is not None else table
    return pd.to_numeric(rows[accuracy_goal(goals).name], errors="coerce").to_numpy(float)


def summarise_group(
    label: str,
    table: pd.DataFrame,
    goals: Sequence[Goal],
    budgets: Sequence[Budget | None],
    band: Band | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """`table` holds the group's eligible trials."""
    errors = errors_of(table, goals, band)
    errors = errors[np.isfinite(errors)]
    grid, fraction = error_edf(errors)
    estimates = []
    for budget in budgets:
        estimate = best_with_interval(budget_values(table, goals, budget), seed=seed)
        estimates.append({"budget": _budget_name(budget), **estimate.__dict__})
    return {
        "label": label,
        "complete": len(table),
        "front": _front(table, goals),
        "edf": {"error": grid.tolist(), "fraction": fraction.tolist(), "band": _band(band)},
        "median_error": float(np.median(errors)) if errors.size else None,
        "best": estimates,
    }


def winner_lines(
    groups: dict[str, pd.DataFrame],
    goals: Sequence[Goal],
    budgets: Sequence[Budget | None],
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One winner call per budget over the groups' eligible tables."""
    lines = []
    for budget in budgets:
        values = {label: budget_values(t, goals, budget) for label, t in groups.items()}
        values = {k: v[np.isfinite(v)] for k, v in values.items()}
        call = call_winner(values, seed=seed)
        name = _budget_name(budget)
        lines.append({"budget": name, **call.__dict__, "sentence": call.sentence(name)})
    return lines


def _budget_name(budget: Budget | None) -> str:
    return str(budget) if budget is not None else "any budget"


def _band(band: Band | None) -> str | None:
    return str(band) if band is not None else None
