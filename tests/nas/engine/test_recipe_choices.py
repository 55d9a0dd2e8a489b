"""Recipe keys with choices: `train: {lr: [..], drop_path: {low, high}}` is sampled per trial
with the architecture, recorded (Optuna params, trials/<n>/arch.yaml, export arch.yaml),
used for that trial's training and reused by `nas train`."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

from nas.runs import format as rf

SPACE = {
    "name": "recipes",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": 8, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": [8, 16], "stride": 2, "kernel": 3}],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 600},
    "train": {
        "epochs": 1,
        "batch_size": 64,
        "warmup_epochs": 1,  # warm-up to the peak over the one epoch: it ends at the peak lr
        "lr": [0.001, 0.01],
        "drop_path": {"low": 0.0, "high": 0.2},
    },
    "search": {"objectives": {"accuracy": "max", "flops": "min"}},
}


def _study(run: Path) -> optuna.Study:
    info = json.loads((run / rf.RUN_FILE).read_text())
    return optuna.load_study(
        study_name=info[rf.RUN_STUDY_NAME], storage=f"sqlite:///{run / rf.STUDY_FILE}"
    )


def test_validate_counts_recipe_choices(nas, write_space) -> None:
    result = nas("validate", write_space(SPACE), "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["free_parameters"] == ["stages[0].width", "train.lr", "train.drop_path"]
    assert report["architectures"] is None  # JSON for infinite: drop_path is continuous
    stepped = {**SPACE, "train": {"lr": [0.001, 0.01], "drop_path": [0, 0.1, 0.2]}}
    assert nas("validate", write_space(stepped), "--json").json()["architectures"] == 2 * 2 * 3


def test_validate_checks_every_offered_value_with_the_train_rules(nas, write_space) -> None:
    bad = {
        **SPACE,
        "train": {"lr": [0.001, -1], "drop_path": {"low": 0.0, "high": 1.0}, "augment": ["x"]},
    }
    result = nas("validate", write_space(bad))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 3, result.err
    assert "train.lr: -1.0 must be positive" in lines[0]
    assert "train.drop_path: 1.0 must be in [0, 1)" in lines[1]
    assert "train.augment: 'x' is not one of" in lines[2]


def test_a_malformed_choice_is_refused_when_the_space_loads(nas, write_space) -> None:
    result = nas("validate", write_space({**SPACE, "train": {"lr": {"low": 0.1, "high": 0.01}}}))
    assert result.code == 2
    assert "train.lr: low 0.1 is above high 0.01" in result.err


def test_sample_prints_a_sampled_recipe_the_same_for_the_same_seed(nas, write_space) -> None:
    space = write_space(SPACE)
    first = nas("sample", space, "--count", "4", "--seed", "7", "--no-flops")
    again = nas("sample", space, "--count", "4", "--seed", "7", "--no-flops")
    assert first.code == 0 and first.out == again.out
    recipes = [doc["train"] for doc in yaml.safe_load_all(first.out)]
    assert all(r["lr"] in (0.001, 0.01) and 0.0 <= r["drop_path"] <= 0.2 for r in recipes)
    assert len({r["drop_path"] for r in recipes}) == 4  # drawn, not the range's first value
    assert all(r["epochs"] == 1 and r["batch_size"] == 64 for r in recipes)  # fixed keys kept


def test_a_file_with_recipe_choices_is_not_an_architecture(nas, write_space) -> None:
    fixed = {**SPACE, "stages": [{**SPACE["stages"][0], "width": 8}]}
    result = nas("train", write_space(fixed), "--epochs", "1")
    assert result.code == 2
    assert "train.lr" in result.err and "nas sample" in result.err


@pytest.mark.slow
def test_a_search_samples_records_and_trains_with_each_trials_recipe(
    nas, write_space, tmp_path
) -> None:
    run = tmp_path / "run"
    result = nas("search", write_space(SPACE), "--trials", "3", "--output", run, "--seed", "0")
    assert result.code == 0, result.err
    trials = _study(run).get_trials()
    assert len(trials) == 3
    assert {t.params["train.lr"] for t in trials} == {0.001, 0.01}  # both drawn (seed 0)
    for trial in trials:
        folder = run / rf.TRIALS_DIR / str(trial.number)
        recipe = yaml.safe_load((folder / rf.ARCH_FILE).read_text())["train"]
        assert recipe["lr"] == trial.params["train.lr"]
        assert recipe["drop_path"] == trial.params["train.drop_path"]
        assert 0.0 <= recipe["drop_path"] <= 0.2 and recipe["batch_size"] == 64
        # The worker trained with it: the lr of its last step (the peak) is the sampled one.
        history = json.loads((folder / rf.METRICS_FILE).read_text())["history"]
        assert history and all(entry["lr"] == recipe["lr"] for entry in history)
    # config.yaml keeps the choices, so a resumed search samples from the same recipe.
    config = yaml.safe_load((run / rf.CONFIG_FILE).read_text())
    assert config["train"]["lr"] == [0.001, 0.01]

    number = trials[0].number
    arch_file = run / rf.TRIALS_DIR / str(number) / rf.ARCH_FILE
    trained = nas("train", arch_file, "--json").json()
    assert trained["train"]["lr"] == trials[0].params["train.lr"]
    assert trained["train"]["drop_path"] == trials[0].params["train.drop_path"]
    assert nas("train", arch_file, "--lr", "0.005", "--json").json()["train"]["lr"] == 0.005

    exported = nas(
        "export", run, "--pick", number, "--format", "safetensors", "--retrain-epochs", 1, "--json"
    )
    assert exported.code == 0, exported.err
    export_arch = run / rf.EXPORT_DIR / str(number) / rf.ARCH_FILE
    assert yaml.safe_load(export_arch.read_text())["train"]["lr"] == trials[0].params["train.lr"]
    retrained = exported.json()[0]["retrain"]["recipe"]  # what --retrain-epochs trained with
    assert retrained["lr"] == trials[0].params["train.lr"]
    assert retrained["drop_path"] == trials[0].params["train.drop_path"]
