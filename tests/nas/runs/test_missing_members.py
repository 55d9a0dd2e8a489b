"""Export and verify do what they can when a member's trial folder is gone: every member
that can be exported is, one whose folder is gone is rebuilt from the architecture the
run still records (trials.csv, else the study's parameters replayed through the space),
and each one that cannot be is one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml

from nas.engine.chooser import OptunaChooser
from nas.runs import format as rf
from nas.runs.trial_architecture import trial_architecture
from search_space import load_architecture, load_space
from search_space.loader import read_yaml, resolve
from search_space.sampling import sample_architecture
from tests.nas.engine.test_search import SPACE


def test_a_trials_parameters_replayed_through_the_space_give_its_architecture(tmp_path):
    """Sampled through Optuna as the search samples (define-by-run, conditional keys),
    then rebuilt from nothing but the trial's parameters and the run's config."""
    document = read_yaml(resolve("demo"))  # the run's config: the space and its sections
    space = load_space(document)
    study = optuna.create_study(directions=["maximize", "minimize"])
    sampled = {}
    for _ in range(12):
        trial = study.ask()
        sampled[trial.number] = sample_architecture(
            space, OptunaChooser(trial), f"{space.name}-{trial.number}"
        ).to_dict(run_config=False)
        study.tell(trial, [0.5, 1.0])
    for trial in study.trials:
        rebuilt = trial_architecture(tmp_path, trial, document)  # no folder, no trials.csv
        assert rebuilt == sampled[trial.number]


def _nas(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nas", *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("missing")
    space = folder / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    run = folder / "run"
    done = _nas("search", space, "--trials", 4, "--no-plots", "--output", run)
    assert done.returncode == 0, done.stderr[-3000:]
    return run


def _copy(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    return target


def _members(run: Path) -> tuple[int, int]:
    """A front member (with weights) and another complete trial."""
    table = pd.read_csv(run / rf.TRIALS_CSV)
    front = int(pd.read_csv(run / rf.PARETO_CSV)["number"].iloc[0])
    others = table[(table["state"] == rf.COMPLETE) & (table["number"] != front)]
    return front, int(others["number"].iloc[0])


@pytest.mark.slow
def test_export_writes_the_members_it_can_and_names_the_one_whose_folder_is_gone(
    searched, tmp_path
):
    run = _copy(searched, tmp_path / "run")
    front, gone = _members(run)
    shutil.rmtree(run / rf.TRIALS_DIR / str(gone))
    result = _nas(
        "export", run, "--pick", front, gone, "--format", "safetensors", "--no-check-accuracy"
    )
    assert result.returncode == 2
    lines = [  # less the progress lines, one per model started and written
        line for line in result.stderr.strip().splitlines() if not line.startswith("export")
    ]
    assert len(lines) == 1 and lines[0].startswith(f"nas export: error: trial {gone}:"), lines
    assert f"exported 1/2: trial {front} (" in result.stderr
    assert "is gone" in lines[0] and "--retrain-epochs N" in lines[0]
    assert (run / rf.EXPORT_DIR / str(front) / rf.WEIGHTS_FILE).is_file()
    assert not (run / rf.EXPORT_DIR / str(gone)).exists()


@pytest.mark.slow
@pytest.mark.parametrize("also_lost", ["nothing", "trials.csv"])
def test_a_member_whose_folder_is_gone_is_retrained_from_its_recorded_architecture(
    searched, tmp_path, also_lost
):
    run = _copy(searched, tmp_path / "run")
    _, gone = _members(run)
    original = load_architecture(
        yaml.safe_load((run / rf.TRIALS_DIR / str(gone) / rf.ARCH_FILE).read_text())
    ).to_dict(run_config=False)
    shutil.rmtree(run / rf.TRIALS_DIR / str(gone))
    if also_lost == "trials.csv":  # then only the study's parameters are left
        (run / rf.TRIALS_CSV).unlink()
    result = _nas(
        "export", run, "--pick", gone, "--retrain-epochs", 1, "--format", "safetensors",
        "--no-check-accuracy",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    exported = run / rf.EXPORT_DIR / str(gone)
    rebuilt = load_architecture(yaml.safe_load((exported / rf.ARCH_FILE).read_text()))
    assert {**rebuilt.to_dict(run_config=False), "name": None} == {**original, "name": None}
    verified = _nas("verify", run, "--seeds", 1, "--epochs", 1, "--pick", gone)
    assert verified.returncode == 0, verified.stderr[-3000:]
    rows = pd.read_csv(run / rf.VERIFY_CSV)
    assert list(rows["trial"]) == [gone]
