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

from nas.runs.analysis.bootstrap import Budget, best_with_interval
from nas.runs.analysis.edf import Band, error_edf
from nas.runs.analysis.evidence import Evidence
from nas.runs.analysis.objectives import Goal, accuracy_goal, front_rows
from nas.runs.analysis.winner import winner_calls
from nas.runs.noise import SeedNoise, evaluation_se, seed_noise

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
    score = accuracy_goal(goals).name  # the pictures and text read "accuracy": the score
    found = []
    for record in records:
        row = {k: _plain(v) for k, v in record.items()}
        if score != "accuracy" and score in record:
            row["plain_accuracy"] = row.pop("accuracy", None)
            row["accuracy"] = _plain(record[score])
        found.append(row)
    return found


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
    noise: SeedNoise | None = None,
) -> dict[str, Any]:
    """`table` holds the group's eligible trials; each best carries its standard error
    (seed and evaluation noise of one trial, nas/runs/noise.py)."""
    score = accuracy_goal(goals).name
    noise = noise or seed_noise(table, [], score)
    errors = errors_of(table, goals, band)
    errors = errors[np.isfinite(errors)]
    grid, fraction = error_edf(errors)
    estimates = []
    for budget in budgets:
        estimate = best_with_interval(budget_values(table, goals, budget), seed=seed)
        se = _best_se(estimate.best, table, score, noise)
        estimates.append({"budget": _budget_name(budget), **estimate.__dict__, "se": se})
    return {
        "label": label,
        "complete": len(table),
        "front": _front(table, goals),
        "edf": {"error": grid.tolist(), "fraction": fraction.tolist(), "band": _band(band)},
        "median_error": float(np.median(errors)) if errors.size else None,
        "best": estimates,
    }


def _best_se(best: float | None, table: pd.DataFrame, score: str, noise: SeedNoise) -> float | None:
    """One trial's standard error at the best score: the seed noise and the evaluation
    noise of the trial that scored it (nas/runs/noise.py)."""
    if best is None or score not in table or table.empty:
        return None
    evaluation, _ = evaluation_se(table, score)
    scores = pd.to_numeric(table[score], errors="coerce")
    at_best = evaluation[(scores == best).to_numpy()].dropna()
    se_eval = float(at_best.max()) if len(at_best) else float(evaluation.max())
    return float(np.hypot(noise.sd, se_eval))


def winner_lines(
    groups: dict[str, pd.DataFrame],
    goals: Sequence[Goal],
    budgets: Sequence[Budget | None],
    seed: int = 0,
    evidence: Evidence | None = None,
) -> list[dict[str, Any]]:
    """One winner call per budget over the groups' eligible tables (nas/runs/analysis/
    winner.py); `evidence` holds the run's seed noise and retrained test scores."""
    if evidence is None:
        rows = pd.concat(list(groups.values())) if groups else pd.DataFrame()
        evidence = Evidence(seed_noise(rows, [], accuracy_goal(goals).name))
    accuracy = accuracy_goal(goals).name

    def within(table: pd.DataFrame, budget: Budget | None) -> pd.DataFrame:
        """The rows under `budget` with a score, as `accuracy` beside its evaluation SE."""
        rows = table[budget.mask(table)] if budget is not None else table
        rows = rows[np.isfinite(pd.to_numeric(rows[accuracy], errors="coerce"))]
        evaluation, method = evaluation_se(rows, accuracy)
        found = rows.assign(accuracy=pd.to_numeric(rows[accuracy], errors="coerce"))
        found = found.assign(se_eval=evaluation)
        found.attrs["se_eval_method"] = method  # for the call's noise line
        return found

    return winner_calls(groups, budgets, within, evidence, seed)


def _budget_name(budget: Budget | None) -> str:
    return str(budget) if budget is not None else "any budget"


def _band(band: Band | None) -> str | None:
    return str(band) if band is not None else None
