"""The objectives an analysis reads from a trials table, and the rows it may use.

A trials table (results/README.md) does not say which way each objective points; the
study does. `Goal` carries that, with the defaults of a standard run
(accuracy maximised, FLOPs minimised) when the caller knows no better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nas.runs.pareto import hypervolume, pareto_front

MAXIMIZE, MINIMIZE = "maximize", "minimize"
COMPLETE = "complete"


@dataclass(frozen=True)
class Goal:
    name: str  # a column of the trials table
    direction: str  # MAXIMIZE or MINIMIZE


DEFAULT_GOALS = (Goal("accuracy", MAXIMIZE), Goal("flops", MINIMIZE))


def goals_from(objectives: Sequence[dict] | None) -> tuple[Goal, ...]:
    """From the study attribute `[{"name": .., "direction": ..}, ...]`; defaults if None."""
    if not objectives:
        return DEFAULT_GOALS
    return tuple(Goal(o["name"], o["direction"]) for o in objectives)


def eligible(table: pd.DataFrame, goals: Sequence[Goal]) -> pd.DataFrame:
    """Complete trials with a finite value for every objective (the front's candidates)."""
    keep = table["state"] == COMPLETE if "state" in table.columns else pd.Series(True, table.index)
    for goal in goals:
        keep &= np.isfinite(pd.to_numeric(table[goal.name], errors="coerce"))
    return table[keep]


def front_rows(table: pd.DataFrame, goals: Sequence[Goal]) -> pd.DataFrame:
    """The non-dominated rows of `table` (already eligible), in table order."""
    if table.empty:
        return table
    points = table[[g.name for g in goals]].to_numpy(dtype=float)
    return table.iloc[pareto_front(points, [g.direction for g in goals])]


def front_hypervolume(
    table: pd.DataFrame, goals: Sequence[Goal], reference: Sequence[float]
) -> float:
    if table.empty:
        return 0.0
    points = table[[g.name for g in goals]].to_numpy(dtype=float)
    return hypervolume(points, reference, [g.direction for g in goals])


def common_reference(references: Sequence[Sequence[float]], goals: Sequence[Goal]) -> list[float]:
    """The worst of several runs' reference points, objective by objective, so that every
    run's front lies inside the box and their hypervolumes can be compared."""
    pick = {MAXIMIZE: min, MINIMIZE: max}
    return [pick[g.direction](float(r[i]) for r in references) for i, g in enumerate(goals)]


def document_score(document: Mapping[str, Any]) -> str:
    """The accuracy objective of an analysis or comparison document (its "objectives"),
    chosen as `accuracy_goal` chooses it: what its fronts and EDFs are drawn on."""
    goals = [Goal(g["name"], g["direction"]) for g in document.get("objectives") or []]
    return accuracy_goal(goals).name if goals else "accuracy"


def accuracy_goal(goals: Sequence[Goal]) -> Goal:
    """The objective that errors are read from: accuracy if present, else the first
    maximised one."""
    for goal in goals:
        if goal.name == "accuracy":
            return goal
    maximised = [g for g in goals if g.direction == MAXIMIZE]
    return (maximised or list(goals))[0]
