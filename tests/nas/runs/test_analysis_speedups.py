"""What makes `nas analyze` fast changes nothing it answers: PED-ANOVA imported without
scikit-learn is Optuna's own evaluator with Optuna's own numbers, and importances
computed in a forked process are the ones computed in this one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import optuna
import pandas as pd
import pytest

from nas.runs import format as rf
from nas.runs.analysis.analyze import analyze_table
from nas.runs.analysis.background import Pending
from nas.runs.analysis.importance import _study_for, importances, parameter_table
from nas.runs.analysis.objectives import DEFAULT_GOALS, eligible
from nas.runs.analysis.run import analyze_run
from nas.runs.analysis.source import open_source
from search_space.errors import SpaceError
from tests.nas.runs.analysis_tables import mixed_run

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "results" / "reference"


def _optuna_reference(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The same importances through Optuna's public route: `import optuna.importance`
    and get_param_importances with its PED-ANOVA evaluator (accuracy negated, as ours)."""
    import optuna.importance

    params = parameter_table(table)
    values = [[-a, f] for a, f in zip(table["accuracy"], table["flops"])]
    study = _study_for(params, values)
    found = {}
    for i, goal in enumerate(DEFAULT_GOALS):
        scores = optuna.importance.get_param_importances(
            study,
            evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
            target=lambda t, i=i: t.values[i],
        )
        found[goal.name] = {k: round(v, 4) for k, v in scores.items()}
    return found


_FRESH_PROCESS = """
import json, sys
from nas.runs.analysis.importance import importances
from nas.runs.analysis.objectives import DEFAULT_GOALS
from tests.nas.runs.analysis_tables import mixed_run
found = importances(mixed_run(), DEFAULT_GOALS)["objectives"]
loaded = {name: name in sys.modules for name in ("sklearn", "scipy.stats", "optuna.importance")}
import optuna.importance  # the real package after the stand-in: fANOVA still works
from nas.runs.analysis import ped_anova
same_class = ped_anova.evaluator_class() is optuna.importance.PedAnovaImportanceEvaluator
fanova = importances(mixed_run(), DEFAULT_GOALS[:1], "fanova")["objectives"]
print(json.dumps({"found": found, "loaded": loaded, "same_class": same_class, "fanova": fanova}))
"""


@pytest.mark.slow
def test_ped_anova_without_scikit_learn_gives_optunas_own_importances() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["loaded"] == {"sklearn": False, "scipy.stats": False, "optuna.importance": False}
    reference = _optuna_reference(mixed_run())
    for goal in ("accuracy", "flops"):  # same values, most important first, ties by name
        assert answer["found"][goal] == reference[goal]
        ranked = sorted(answer["found"][goal].items(), key=lambda item: (-item[1], item[0]))
        assert list(answer["found"][goal].items()) == ranked
    assert answer["same_class"]
    assert set(answer["fanova"]["accuracy"]) == set(reference["accuracy"])


def test_importances_computed_beside_equal_those_computed_here() -> None:
    source = open_source(REFERENCE)
    document, written = analyze_run(REFERENCE, keys=["family"], budgets=["flops<=5e6"], write=False)
    here = analyze_table(
        source.table, source.goals, ["family"], [], None, 0, evaluator="ped-anova"
    )["importance"]
    assert written == []
    assert json.dumps(document["importance"]) == json.dumps(here)
    assert document["importance"]["objectives"]["accuracy"]  # something was computed


def test_unknown_evaluator_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    ignored = shutil.ignore_patterns(rf.REPORT_HTML, "analysis-*.png")
    run = Path(shutil.copytree(REFERENCE, tmp_path / "reference", ignore=ignored))
    with pytest.raises(SpaceError, match="unknown importance evaluator 'anova'"):
        analyze_run(run, evaluator="anova", write=True)
    assert not (run / rf.REPORT_HTML).exists()
    assert not list((run / rf.PLOTS_DIR).glob("analysis-*.png"))


# Run in a fresh interpreter: there no other thread can exist (a test runner may leave
# some behind), which is the condition under which Pending forks.
_FORK_CHECK = """
import json, os, time
from nas.runs.analysis.background import Pending
forked = Pending(os.getpid).result() != os.getpid()
pending = Pending(time.sleep, 60)
child = pending._process.pid if pending._process is not None else None
pending.close()
try:
    os.kill(child, 0)
    reaped = False
except ProcessLookupError:
    reaped = True
try:
    pending.result()
    refused = ""
except RuntimeError as error:
    refused = str(error)
print(json.dumps({"forked": forked, "child": child, "reaped": reaped, "refused": refused}))
"""


def test_pending_forks_on_linux_and_close_stops_and_reaps_the_child() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _FORK_CHECK], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["forked"] is sys.platform.startswith("linux")
    assert answer["child"] is not None  # the sleeping child was started ...
    assert answer["reaped"]  # ... and is gone after close, waited for (no zombie)
    assert "already read, or closed unread" in answer["refused"]


def test_pending_runs_in_the_caller_while_another_thread_runs() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert Pending(os.getpid).result() == os.getpid()
    finally:
        release.set()
        other.join()


def _refuse(message: str) -> None:
    raise SpaceError(message)


def test_pending_raises_the_functions_error_in_the_caller() -> None:
    with pytest.raises(SpaceError, match="no such key"):
        Pending(_refuse, "no such key").result()


def test_the_reference_importance_route_agrees_in_this_process() -> None:
    # the ordinary route (optuna.importance imported for real, as after --fanova)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = eligible(mixed_run(), DEFAULT_GOALS)
    found = importances(table, DEFAULT_GOALS)["objectives"]
    reference = _optuna_reference(table)
    assert list(found) == list(reference)
    for goal in found:
        assert found[goal] == reference[goal]  # the same importance for every key
        ranked = sorted(found[goal].items(), key=lambda item: (-item[1], item[0]))
        assert list(found[goal].items()) == ranked  # most important first, ties by name
