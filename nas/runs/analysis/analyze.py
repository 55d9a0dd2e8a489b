"""The design-space analysis of one run, and the comparison of several runs.

`analyze_table` answers "which design choice wins at which budget" for one run: the
trials are split by each key (`family`, `stages[2].block`, ...) and every group gets its
front, error EDF and best accuracy under each budget; one winner call per budget; the
importance of every key per objective. `compare_tables` does the same with whole runs as
the groups (different spaces on the same data), adding each run's hypervolume against a
common reference point and a two-sample test of the error distributions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nas.runs.analysis.bootstrap import LEVEL, RESAMPLES, Budget
from nas.runs.analysis.edf import Band
from nas.runs.analysis.evidence import Evidence
from nas.runs.analysis.features import group_column
from nas.runs.analysis.groups import errors_of, summarise_group, winner_lines
from nas.runs.analysis.importance import importances
from nas.runs.analysis.objectives import (
    Goal,
    accuracy_goal,
    common_reference,
    eligible,
    front_hypervolume,
)
from nas.runs.analysis.two_sample import compare_distributions
from nas.runs.noise import seed_noise

DEFAULT_KEYS = ("family",)


def _method(seed: int) -> dict[str, Any]:
    return {"bootstrap_resamples": RESAMPLES, "interval": LEVEL, "seed": seed}


def group_by(
    table: pd.DataFrame,
    key: str,
    goals: Sequence[Goal],
    budgets: Sequence[Budget | None],
    band: Band | None = None,
    seed: int = 0,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """The groups of `key` over the eligible rows, each summarised, and the winner lines."""
    labels = group_column(table, key)
    groups = {str(k): rows for k, rows in table.groupby(labels, sort=True)}
    noise = evidence.seed if evidence is not None else None
    return {
        "key": key,
        "groups": [
            summarise_group(k, t, goals, budgets, band, seed, noise) for k, t in groups.items()
        ],
        "winners": winner_lines(groups, goals, budgets, seed, evidence),
    }


def analyze_table(
    table: pd.DataFrame,
    goals: Sequence[Goal],
    keys: Sequence[str] = DEFAULT_KEYS,
    budgets: Sequence[Budget] = (),
    band: Band | None = None,
    seed: int = 0,
    evaluator: str | None = "ped-anova",
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """The whole analysis of one run as one JSON-able document (see module docstring).
    `evaluator=None` skips the importances; `evidence` holds the run's seed noise and
    retrained test scores (default: the seed noise of the table's own replicates)."""
    rows = eligible(table, goals)
    if evidence is None:
        evidence = Evidence(seed_noise(table, [], accuracy_goal(goals).name))
    states = table["state"].value_counts().to_dict() if "state" in table else {}
    budget_list: list[Budget | None] = [None, *budgets]
    return {
        "trials": len(table),
        "complete": len(rows),
        "states": {str(k): int(v) for k, v in states.items()},
        "objectives": [g.__dict__ for g in goals],
        "band": str(band) if band is not None else None,
        "method": _method(seed),
        "noise": evidence.seed.to_dict(),
        "groupings": [
            group_by(rows, key, goals, budget_list, band, seed, evidence) for key in keys
        ],
        "importance": importances(rows, goals, evaluator, seed) if evaluator else None,
    }


@dataclass(frozen=True)
class RunTable:
    """What `compare_tables` needs of one run."""

    name: str
    table: pd.DataFrame
    reference: Sequence[float]  # the run's hypervolume reference point, one per goal


def compare_tables(
    runs: Sequence[RunTable],
    goals: Sequence[Goal],
    budgets: Sequence[Budget] = (),
    band: Band | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Runs as groups: fronts, EDFs, winners per budget, hypervolume against the common
    reference point, and a KS test of each run's errors against the first run's."""
    tables = {run.name: eligible(run.table, goals) for run in runs}
    reference = common_reference([run.reference for run in runs], goals)
    budget_list: list[Budget | None] = [None, *budgets]
    summaries = [summarise_group(n, t, goals, budget_list, band, seed) for n, t in tables.items()]
    for summary, run in zip(summaries, runs):
        summary["trials"] = len(run.table)
        summary["hypervolume"] = front_hypervolume(tables[run.name], goals, reference)
    return {
        "runs": [run.name for run in runs],
        "objectives": [g.__dict__ for g in goals],
        "reference_point": reference,
        "band": str(band) if band is not None else None,
        "method": _method(seed),
        "groups": summaries,
        "winners": winner_lines(tables, goals, budget_list, seed),
        "tests": _tests(tables, goals, band, seed),
    }


def _tests(
    tables: Mapping[str, pd.DataFrame], goals: Sequence[Goal], band: Band | None, seed: int
) -> list[dict[str, Any]]:
    names = list(tables)
    first = errors_of(tables[names[0]], goals, band)
    found = []
    for name in names[1:]:
        test = compare_distributions(first, errors_of(tables[name], goals, band), seed)
        found.append({"a": names[0], "b": name, **(test.__dict__ if test else {})})
    return found
