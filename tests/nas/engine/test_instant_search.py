"""A search whose objectives are counted or looked up runs its trials in the driver, with
the same study, run folder and records as a Ray Tune search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

import nas
from evaluators.tabular.nb201_counts import EDGES, nb201_counts
from evaluators.tabular.nb201_table import cell_string, load_table
from nas.runs import format as rf
from tests.evaluators.test_nb201_table import BEST_CIFAR10_CELL
from tests.search_space.test_nb201 import nb201_arch


@pytest.mark.slow
def test_a_tabular_search_records_the_tables_values_without_ray(tmp_path: Path) -> None:
    import ray

    from evaluators.tabular.nb201_table import edges_of

    seed = tmp_path / "best.yaml"
    seed.write_text(nb201_arch(edges_of(BEST_CIFAR10_CELL)).to_yaml())
    run_dir = tmp_path / "run"
    nas.search("nb201", trials=40, output=str(run_dir), seed_archs=[str(seed)])
    assert not ray.is_initialized()
    study = optuna.load_study(study_name="run", storage=f"sqlite:///{run_dir / rf.STUDY_FILE}")
    trials = study.get_trials()
    assert [t.number for t in trials] == list(range(40))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    table = load_table()
    for trial in trials:
        edges = {key: trial.params[f"tied.{key}"] for key in EDGES}
        row = table.index[cell_string(edges)]
        assert trial.values[0] == table.accuracy["nb201_cifar10"][row]
        assert trial.values[1] == nb201_counts(edges, convention="nb201")["flops"]
    assert trials[0].values[0] == pytest.approx(0.9437, abs=1e-4)  # the seed, queued first
    assert len(pd.read_csv(run_dir / rf.TRIALS_CSV)) == 40
    assert json.loads((run_dir / rf.RUN_FILE).read_text())["status"] == rf.FINISHED
    metrics = json.loads((run_dir / rf.TRIALS_DIR / "7" / rf.METRICS_FILE).read_text())
    assert metrics["metrics"]["nb201_cifar10"] == trials[7].values[0]
    assert "NAS-Bench-201" in metrics["flop_convention"]  # the space's search.flop_convention

    nas.search(trials=50, output=str(run_dir), resume=True)
    again = study.get_trials()
    assert len(again) == 50
    assert [t.params for t in again[:40]] == [t.params for t in trials]


def test_refreshes_read_the_copy_which_holds_what_the_storage_holds(tmp_path, monkeypatch):
    import nas.engine.runner as runner

    run_dir, seen = tmp_path / "run", []
    refresh = runner._update_run_folder

    def checked(experiment, study, *, plots=None):
        results = refresh(experiment, study, plots=plots)
        url = f"sqlite:///{run_dir / rf.STUDY_FILE}"
        stored = optuna.load_study(study_name="run", storage=url)  # a second connection
        read = [(t.number, t.values, t.params) for t in study.get_trials(deepcopy=False)]
        assert read == [(t.number, t.values, t.params) for t in stored.get_trials()]
        seen.append((len(read), study.user_attrs.get(rf.STUDY_REFERENCE_POINT)))
        return results

    monkeypatch.setattr(runner, "_update_run_folder", checked)
    monkeypatch.setattr(runner._Refresher, "trial_finished", _every_100(runner))
    nas.search("nb201", trials=400, sampler="random", output=str(run_dir))
    counts = [n for n, _ in seen]  # four from the copy (each after a batch's write), the final
    assert len(counts) == 5 and counts == sorted(counts) and counts[0] >= 100 and counts[-1] == 400
    fixed = [point for _, point in seen if point is not None]
    assert fixed and all(point == fixed[0] for point in fixed)  # fixed once, in the copy
    url = f"sqlite:///{run_dir / rf.STUDY_FILE}"
    stored = optuna.load_study(study_name="run", storage=url).user_attrs
    assert stored[rf.STUDY_REFERENCE_POINT] == fixed[0]  # and written back to the storage


def _every_100(runner):
    """A refresh after every 100th trial (the real refresher spaces them by their cost)."""

    def trial_finished(self, number: int, state: str, attrs: dict) -> None:
        if (number + 1) % 100 == 0:
            runner._update_run_folder(self.experiment, self.study, plots=False)
        self.progress.trial_finished(number, state, attrs)

    return trial_finished


def _stored(run: Path) -> list:
    try:
        study = optuna.load_study(study_name="r", storage=f"sqlite:///{run / rf.STUDY_FILE}")
        return study.get_trials(deepcopy=False)
    except Exception:  # the study is still being created
        return []


@pytest.mark.slow
def test_a_kill_9_loses_at_most_the_unwritten_trials_and_resume_completes(nas, tmp_path) -> None:
    """Decided trials are written in batches: a kill -9 between two loses the batch in
    hand, never a written trial, and leaves no half-written one; a resume finishes."""
    run, trials = tmp_path / "r", 400
    command = [sys.executable, "-m", "nas", "search", "nb201", "--trials", str(trials)]
    command += ["--no-plots", "--output", str(run)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while len(_stored(run)) < 30:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no trials were written in time"
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    before = _stored(run)
    assert 30 <= len(before) < trials
    assert [t.number for t in before] == list(range(len(before)))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in before)

    result = nas("search", "--resume", "--output", run, "--json")
    assert result.code == 0, result.err
    assert result.json()["decided"] == trials
    after = _stored(run)
    assert [t.number for t in after] == list(range(trials))
    table = load_table()
    for trial in after:
        edges = {key: trial.params[f"tied.{key}"] for key in EDGES}
        assert trial.values[0] == table.accuracy["nb201_cifar10"][table.index[cell_string(edges)]]
    for old in before:  # written before the kill: kept as they were
        assert after[old.number].params == old.params and after[old.number].values == old.values
    assert len(pd.read_csv(run / rf.TRIALS_CSV)) == trials


def _network(table, trial) -> str:
    """NB201's own isomorphism key of the trial's cell (the table's UniqueString)."""
    edges = {key: trial.params[f"tied.{key}"] for key in EDGES}
    return table.unique[table.index[cell_string(edges)]]


@pytest.mark.slow
def test_skipped_repeats_spend_no_queries_and_stay_off_the_front(tmp_path: Path) -> None:
    run = tmp_path / "run"
    nas.search("nb201", trials=150, repeats="skip", output=str(run), plots=False)
    nas.search(trials=180, output=str(run), resume=True)  # the resume remembers the keys
    study = optuna.load_study(study_name="run", storage=f"sqlite:///{run / rf.STUDY_FILE}")
    trials = sorted(study.get_trials(), key=lambda t: t.number)
    table = load_table()
    queries = [t for t in trials if t.user_attrs.get(rf.ATTR_REPEAT_OF) is None]
    repeats = [t for t in trials if t.user_attrs.get(rf.ATTR_REPEAT_OF) is not None]
    assert len(queries) == 180 and repeats, "TPE repeats itself within 180 proposals"
    assert len({_network(table, t) for t in queries}) == 180  # no network queried twice
    for trial in repeats:
        first = trials[trial.user_attrs[rf.ATTR_REPEAT_OF]]
        assert first.number < trial.number and first.user_attrs.get(rf.ATTR_REPEAT_OF) is None
        assert _network(table, first) == _network(table, trial)
    rows = pd.read_csv(run / rf.TRIALS_CSV)
    assert len(rows) == len(trials)
    assert rows.loc[rows["pareto"], "repeat_of"].isna().all()
    assert set(rows.loc[rows["repeat_of"].notna(), "number"]) == {t.number for t in repeats}


def test_skipping_repeats_needs_counted_or_looked_up_objectives() -> None:
    from nas.engine.settings import SearchConfig
    from search_space.errors import SpaceError

    assert SearchConfig.from_dict({"objectives": "flops:min", "repeats": "skip"}).repeats == "skip"
    with pytest.raises(SpaceError, match=r"search.repeats: skip needs objectives that are all"):
        SearchConfig.from_dict({"objectives": "accuracy:max,flops:min", "repeats": "skip"})
