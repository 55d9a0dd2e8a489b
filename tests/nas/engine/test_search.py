"""`nas search` end to end: real Ray (in this process or a subprocess), real SQLite storage,
real training on a slice of mnist5k. Each search is a few one-epoch trials of a tiny space.

Failures are injected with the test-only hooks of nas/engine/trial.py: NAS_TEST_FAIL_TRIALS makes
the listed trials raise, NAS_TEST_KILL_TRIALS kills their worker process once
(remembered in the folder NAS_TEST_MARKERS).
"""

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
import yaml

from nas.runs import format as rf

SPACE = {
    "name": "tiny",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [8, 32], "stride": 2},
    "stages": [
        {
            "block": ["resnet", "mbconv"],
            "depth": 1,
            "width": [8, 16],
            "stride": 2,
            "kernel": 3,
            "expansion": 2,
        }
    ],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 600},
    "train": {"epochs": 1, "batch_size": 64},
    "search": {"objectives": {"accuracy": "max", "flops": "min"}},
}
# The biggest candidate; over the params bound used below, so it must never be trained.
BIG = {
    **SPACE,
    "name": "big",
    "stem": {"type": "conv", "width": 32, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 16, "stride": 2, "kernel": 3}],
}


def _study(run: Path) -> optuna.Study:
    info = json.loads((run / rf.RUN_FILE).read_text())
    return optuna.load_study(
        study_name=info[rf.RUN_STUDY_NAME], storage=f"sqlite:///{run / rf.STUDY_FILE}"
    )


def test_an_unreachable_cluster_is_one_line_and_exit_2(nas, write_space, tmp_path) -> None:
    result = nas(
        "search", write_space(SPACE), "--address", "127.0.0.1:1", "--output", tmp_path / "run"
    )
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "--address 127.0.0.1:1" in lines[0], result.err
    assert not (tmp_path / "run").exists()  # nothing written before Ray answered


@pytest.mark.slow
def test_a_seeded_search_records_every_outcome(nas, write_space, tmp_path, monkeypatch) -> None:
    """Trial 0 is a seed architecture over the bound (infeasible, never trained), trial 1
    raises, trial 2's worker is killed once and retried, trial 3 runs normally."""
    monkeypatch.setenv("NAS_TEST_FAIL_TRIALS", "1")
    monkeypatch.setenv("NAS_TEST_KILL_TRIALS", "2")
    monkeypatch.setenv("NAS_TEST_MARKERS", str(tmp_path))
    space, big, run = write_space(SPACE), write_space(BIG, "big.yaml"), tmp_path / "run"
    result = nas(
        "search",
        space,
        "--trials",
        4,
        "--seed",
        0,
        "--max-concurrent",
        1,
        "--constraint",
        "params<=4000",
        "--seed-archs",
        big,
        "--max-retries",
        1,
        "--no-plots",
        "--output",
        run,
        "--json",
    )
    assert result.code == 0, result.err
    outcome = result.json()
    assert outcome["finished"] and outcome["decided"] == 4
    assert outcome["retried"] == 1  # trial 2, whose worker was killed once
    trials = {t.number: t for t in _study(run).trials}
    states = {n: t.user_attrs[rf.ATTR_STATE] for n, t in trials.items()}
    assert states == {0: rf.INFEASIBLE, 1: rf.FAILED, 2: rf.COMPLETE, 3: rf.COMPLETE}

    infeasible = trials[0]
    assert infeasible.constraints["params_max"] > 0
    assert "accuracy" not in infeasible.user_attrs[rf.ATTR_METRICS]
    assert infeasible.user_attrs[rf.ATTR_EPOCHS] == 0
    assert not (run / rf.TRIALS_DIR / "0" / rf.WEIGHTS_FILE).exists()

    assert trials[1].state == optuna.trial.TrialState.FAIL
    assert "injected failure in trial 1" in trials[1].user_attrs[rf.ATTR_ERROR]
    assert trials[2].user_attrs["attempts"] == 2  # the killed worker's trial ran again

    for number in (2, 3):
        metrics = trials[number].user_attrs[rf.ATTR_METRICS]
        assert 0.0 <= metrics["accuracy"] <= 1.0
        assert trials[number].user_attrs[rf.ATTR_HISTORY]["epoch"] == [1]
        assert (run / rf.TENSORBOARD_DIR / f"trial_{number}").is_dir()
    front = [row["number"] for row in outcome["pareto"]]
    assert front and set(front) <= {2, 3}
    for number in front:
        assert (run / rf.TRIALS_DIR / str(number) / rf.WEIGHTS_FILE).is_file()
    assert json.loads((run / rf.RUN_FILE).read_text())[rf.RUN_STATUS] == rf.FINISHED
    table = pd.read_csv(run / rf.TRIALS_CSV)
    assert list(table["number"]) == [0, 1, 2, 3]
    assert list(table["attempts"].fillna(0)) == [0, 1, 2, 1]  # the infeasible one never ran
    report = nas("report", run, "--no-plots")
    assert "trials: 2 complete, 1 failed, 1 infeasible; 1 retried" in report.out
    config = yaml.safe_load((run / rf.CONFIG_FILE).read_text())
    assert config["search"]["constraints"] == {"params": {"max": 4000.0}}


def _finished_in_study(run: Path) -> bool:
    if not list(run.glob(f"{rf.TRIALS_DIR}/*/{rf.METRICS_FILE}")):
        return False  # cheap: no trial has even written its files
    try:
        return any(t.state.is_finished() for t in _study(run).trials)
    except Exception:  # the run's files are still being written
        return False


@pytest.mark.slow
def test_resume_after_kill_9_loses_nothing(nas, write_space, tmp_path) -> None:
    space, run = write_space({**SPACE, "data": {"name": "mnist5k", "limit": 1500}}), tmp_path / "r"
    command = [
        sys.executable,
        "-m",
        "nas",
        "search",
        str(space),
        "--trials",
        "5",
        "--epochs",
        "3",
        "--max-concurrent",
        "1",
        "--no-plots",
        "--output",
        str(run),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        # A trial's files are written by its worker a moment before the driver records
        # it in the study: kill only once the study holds a finished trial.
        while not _finished_in_study(run):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.2)
    finally:
        os.kill(process.pid, signal.SIGKILL)  # kill -9 of nas search itself
        process.wait()
    before = {t.number: t for t in _study(run).trials if t.state.is_finished()}
    assert 1 <= len(before) < 5

    result = nas("search", "--resume", "--output", run, "--early-stopping", "asha", "--json")
    assert result.code == 0, result.err
    outcome = result.json()
    assert outcome["finished"] and outcome["decided"] == 5
    after = {t.number: t for t in _study(run).trials}
    for number, trial in before.items():  # kept as they were, not re-run
        assert after[number].state == trial.state and after[number].values == trial.values
    counted = [
        t
        for t in after.values()
        if t.user_attrs.get(rf.ATTR_STATE)
        in (rf.COMPLETE, rf.STOPPED_EARLY, rf.FAILED, rf.INFEASIBLE)
        and not t.user_attrs.get(rf.ATTR_INTERRUPTED)
    ]
    assert len(counted) == 5
    for trial in after.values():
        if trial.user_attrs.get(rf.ATTR_INTERRUPTED):  # left running by the killed search
            assert trial.state == optuna.trial.TrialState.FAIL
            retries = [
                t for t in after.values() if t.user_attrs.get(rf.ATTR_RETRY_OF) == trial.number
            ]
            # every choice it had made is repeated (one killed while being sampled has
            # made only some: the retry samples the rest)
            assert len(retries) == 1 and trial.params.items() <= retries[0].params.items()
        if trial.user_attrs.get(rf.ATTR_STATE) == rf.STOPPED_EARLY:
            assert trial.user_attrs[rf.ATTR_EPOCHS] < 3
            assert "accuracy" in trial.user_attrs[rf.ATTR_METRICS]
    pareto = pd.read_csv(run / rf.PARETO_CSV)
    assert sorted(pareto["number"]) == sorted(row["number"] for row in outcome["pareto"])
