"""Which architecture keys matter for each objective: Optuna's parameter importance on a
study rebuilt in memory from the trials table.

Rebuilding (rather than reading the stored study) lets the same code serve a bare
trials.csv, and makes every architecture key a parameter, derived ones included, with
one categorical distribution per key. A key that an architecture lacks (the kernel of an
attention stage) takes the value None, so conditional keys are compared too.

Evaluators: PED-ANOVA (Watanabe et al. 2023; fast, no extra package) or fANOVA (Hutter et
al. 2014; needs scikit-learn). Either is an estimate from few noisy points: under
`SMALL_RUN` complete trials the result comes with a caveat.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from nas.runs.analysis import ped_anova
from nas.runs.analysis.features import DERIVED, architectures, flatten
from nas.runs.analysis.objectives import MINIMIZE, Goal
from search_space.errors import SpaceError

SMALL_RUN = 30  # complete trials below which importances are hints, not findings
EVALUATORS = ("ped-anova", "fanova")
_SKIPPED = ("name", "input.")  # fixed by the space, never searched


def parameter_table(table: pd.DataFrame) -> pd.DataFrame:
    """One column per architecture key that varies across the rows (None: not present)."""
    rows = []
    for arch in architectures(table):
        flat = {k: v for k, v in flatten(arch).items() if not k.startswith(_SKIPPED)}
        flat.update({name: feature(arch) for name, feature in DERIVED.items()} if arch else {})
        rows.append(flat)
    params = pd.DataFrame(rows, index=table.index)
    varying = [c for c in params.columns if params[c].astype(str).nunique() > 1]
    return params[varying].astype(object).where(params[varying].notna(), None)


def check_evaluator(name: str) -> str:
    """`name` if it is an evaluator this module offers; a SpaceError otherwise."""
    if name not in EVALUATORS:
        raise SpaceError(f"unknown importance evaluator {name!r}; choose one of {list(EVALUATORS)}")
    return name


def _scores(study: Any, name: str, seed: int, target: Any) -> dict[str, float]:
    """Normalised importances of every key for `target` by the evaluator `name`."""
    if name == "ped-anova":  # the default: Optuna's evaluator, imported without sklearn
        return ped_anova.evaluate(study, target)
    import optuna.importance

    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    return optuna.importance.get_param_importances(study, evaluator=evaluator, target=target)


def _study_for(params: pd.DataFrame, values: list[list[float]]) -> Any:
    """One in-memory study, every objective minimised (maximised ones negated), so
    PED-ANOVA, which reads the first direction, ranks each target the right way round."""
    import optuna
    from optuna.distributions import CategoricalDistribution

    choices = {c: tuple(sorted(set(params[c]), key=repr)) for c in params.columns}
    distributions = {c: CategoricalDistribution(choices[c]) for c in params.columns}
    study = optuna.create_study(directions=["minimize"] * len(values[0]))
    records = params.to_dict("records")
    study.add_trials(
        optuna.trial.create_trial(params=row, distributions=distributions, values=value)
        for row, value in zip(records, values)
    )
    return study


def importances(
    table: pd.DataFrame, goals: Sequence[Goal], evaluator: str = "ped-anova", seed: int = 0
) -> dict[str, Any]:
    """{"evaluator", "trials", "caveat", "objectives": {name: {key: importance}}} over the
    eligible rows of `table`; importances of one objective sum to 1."""
    import optuna

    check_evaluator(evaluator)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    params = parameter_table(table)
    result: dict[str, Any] = {"evaluator": evaluator, "trials": len(table), "objectives": {}}
    result["caveat"] = _caveat(len(table), params)
    columns = [pd.to_numeric(table[g.name], errors="coerce") for g in goals]
    varying = [i for i, c in enumerate(columns) if c.nunique() > 1]
    if len(table) < 2 or params.empty or not varying:
        return result
    signs = [1.0 if g.direction == MINIMIZE else -1.0 for g in goals]
    values = [[s * float(v) for s, v in zip(signs, row)] for row in zip(*columns)]
    study = _study_for(params, values)
    for i in varying:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PED-ANOVA is flagged experimental
            scores = _scores(study, evaluator, seed, lambda t, i=i: t.values[i])
        rounded = {k: round(float(v), 4) for k, v in scores.items()}
        # most important first; ties by name, so the order never depends on hashing
        ordered = sorted(rounded.items(), key=lambda item: (-item[1], item[0]))
        result["objectives"][goals[i].name] = dict(ordered)
    return result


def _caveat(count: int, params: pd.DataFrame) -> str | None:
    if params.empty:
        return "no architecture key varies across the trials"
    if count < SMALL_RUN:
        return (
            f"only {count} complete trials: with fewer than {SMALL_RUN} the importances "
            f"are hints, not findings; run more trials before trusting the ranking"
        )
    return None
