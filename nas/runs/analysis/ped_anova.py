"""Optuna's PED-ANOVA importance evaluator, imported without scikit-learn.

`import optuna.importance` runs the package's `__init__`, which also imports the fANOVA
and mean-decrease-impurity evaluators and, through them, scikit-learn and scipy.stats:
about 1.5 s of the 3 s a 1,000-trial `nas analyze` may take, for code it does not run.
PED-ANOVA itself needs only numpy and Optuna's TPE code. So its module is imported under
a stand-in for the `optuna.importance` package (a module made from the package's own
spec: same name and search path, but its `__init__` not run), and the stand-in is
removed from `sys.modules` right after. The evaluator is Optuna's own class, unchanged;
its modules stay loaded and are the ones the real package reuses when it is imported
later (by `--fanova` or by the user), so there is one class, not two.

Only `get_param_importances` lives in the package's `__init__`; `normalized` does what it
does with `normalize=True`. Where Optuna's layout differs from 5.x (no such module), the
ordinary import is used. Call from one thread: the stand-in is in `sys.modules` for the
duration of the import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

_PACKAGE = "optuna.importance"
_EVALUATOR_MODULE = "optuna.importance._ped_anova"


def evaluator_class() -> type:
    """optuna.importance.PedAnovaImportanceEvaluator, without importing scikit-learn."""
    if _PACKAGE in sys.modules:  # already imported for real: nothing left to save
        return sys.modules[_PACKAGE].PedAnovaImportanceEvaluator
    try:
        return _import_under_stand_in()
    except (ImportError, AttributeError):
        import optuna.importance

        return optuna.importance.PedAnovaImportanceEvaluator


def _import_under_stand_in() -> type:
    import optuna  # noqa: F401  (the stand-in's parent must be the real package)

    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{_PACKAGE} is not a package here")
    stand_in = importlib.util.module_from_spec(spec)  # name and __path__ only: not executed
    sys.modules[_PACKAGE] = stand_in
    try:
        return importlib.import_module(_EVALUATOR_MODULE).PedAnovaImportanceEvaluator
    finally:
        if sys.modules.get(_PACKAGE) is stand_in:
            del sys.modules[_PACKAGE]


def normalized(scores: dict[str, float]) -> dict[str, float]:
    """Importances that sum to 1 (equal shares when all are 0), in the evaluator's order,
    as optuna.importance.get_param_importances(..., normalize=True) returns them."""
    total = sum(scores.values())
    if total == 0.0:
        return {name: 1.0 / len(scores) for name in scores}
    return {name: value / total for name, value in scores.items()}


def evaluate(study: Any, target: Any) -> dict[str, float]:
    """PED-ANOVA importances of every parameter of `study` for `target`, normalised."""
    return normalized(evaluator_class()().evaluate(study, params=None, target=target))
