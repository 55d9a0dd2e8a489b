"""Models that learned nothing are marked, shown as such, and never exported by a pick word
unless asked: the thresholds recomputed by hand, and a real run holding a real model that
answers one class whatever the image."""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path

import optuna
import pandas as pd
import pytest
import torch

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.device import plan_device
from evaluators.flops import count_flops
from evaluators.training import chance_accuracy, evaluate, train_and_evaluate
from nas.runs import format as rf
from nas.runs.load import save_weights
from nas.runs.quality import add_quality_column
from nas.runs.results import analyse_study
from nas.runs.tables import write_tables
from search_space import build_model, count_params, load_architecture


def _table(accuracies, chance=None, images=300, se=None) -> pd.DataFrame:
    table = pd.DataFrame(
        {"number": range(len(accuracies)), "state": rf.COMPLETE, "accuracy": accuracies}
    )
    if chance is not None:
        table["chance_accuracy"], table["val_images"] = chance, images
    if se is not None:
        table["accuracy_se"] = se
    return table


def test_chance_accuracy_is_the_share_of_the_most_frequent_label():
    labels = torch.tensor([3, 1, 3, 3, 0, 1, 3, 2])
    most = collections.Counter(labels.tolist()).most_common(1)[0][1]
    assert chance_accuracy(labels) == most / len(labels) == 0.5


def test_the_chance_margin_is_three_binomial_standard_errors_of_the_chance_level():
    # 3 classes, 300 images: sqrt(1/3 * 2/3 / 300) = 0.027217; 3 of them = 0.081650.
    margin = 3 * math.sqrt((1 / 3) * (2 / 3) / 300)
    table = add_quality_column(_table([1 / 3 + margin - 1e-4, 1 / 3 + margin + 1e-4], 1 / 3))
    assert list(table["quality"]) == ["chance", ""]


def test_the_chance_margin_is_never_below_two_points_or_half_the_room_above_chance():
    # 3 SE of 10% on 100,000 images is 0.28 points: the 2-point floor rules.
    table = add_quality_column(_table([0.1199, 0.1201], chance=0.10, images=100_000))
    assert list(table["quality"]) == ["chance", ""]
    # A 99% majority leaves 1 point of room: the floor is half of it, 0.5 points.
    table = add_quality_column(_table([0.9949, 0.9951, 1.0], chance=0.99, images=100_000))
    assert list(table["quality"]) == ["chance", "", ""]


def test_far_below_is_tukeys_far_out_fence_and_five_standard_errors():
    scores = [0.95, 0.96, 0.97, 0.955, 0.965, 0.96, 0.80]
    q1, q3 = pd.Series(scores).quantile([0.25, 0.75])  # 0.9525, 0.9650
    assert q1 - 3 * (q3 - q1) > 0.80  # the fence: 0.915
    table = add_quality_column(_table(scores, se=0.005))
    assert list(table["quality"]) == [""] * 6 + ["far_below"]
    # The same score read with a 4-point standard error is within noise of the median.
    noisy = add_quality_column(_table(scores, se=0.04))
    assert list(noisy["quality"]) == [""] * 7


def test_far_below_needs_five_complete_trials_and_ignores_unfinished_ones():
    table = _table([0.95, 0.96, 0.97, 0.20], se=0.005)
    assert list(add_quality_column(table)["quality"]) == [""] * 4
    table = _table([0.95, 0.96, 0.97, 0.955, 0.965, 0.10], chance=0.11, se=0.005)
    table.loc[5, "state"] = rf.FAILED
    assert list(add_quality_column(table)["quality"]) == [""] * 6


# --- a real run ---------------------------------------------------------------------------

DATA = {"name": "mnist5k", "limit": 1500, "augment": False}
TRAIN = {"epochs": 6, "batch_size": 64, "lr": 1.0e-2, "device": "cpu", "threads": 1, "seed": 0}
_BASE = {"input": {"channels": 1, "resolution": 28, "classes": 10}, "head": {"pool": "avg"}}
LEARNS = {
    **_BASE,
    "name": "learns",
    "stem": {"type": "conv", "width": 8, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 16, "stride": 2, "kernel": 3}],
}
NOTHING = {  # smaller, so on the front: its head answers one class whatever the image
    **_BASE,
    "name": "one-class",
    "stem": {"type": "conv", "width": 4, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 4, "stride": 2, "kernel": 3}],
}


@pytest.fixture(scope="module")
def run_with_a_dud(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, float]]:
    folder = tmp_path_factory.mktemp("quality") / "run"
    folder.mkdir()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="q",
        storage=f"sqlite:///{folder / 'study.db'}",
        directions=["maximize", "minimize"],
    )
    study.set_user_attr(
        rf.STUDY_OBJECTIVES,
        [{"name": "accuracy", "direction": "maximize"}, {"name": "flops", "direction": "minimize"}],
    )
    study.set_user_attr(rf.STUDY_CONFIG, {"name": "q", "data": DATA, "train": TRAIN})
    dataset = load_dataset(DataConfig.from_dict(DATA))
    accuracy = {}
    for document in (LEARNS, NOTHING):
        arch = load_architecture(document)
        model = build_model(arch)
        if document is LEARNS:
            trained = train_and_evaluate(model, dataset, TrainConfig.from_dict(TRAIN))
            score = trained["accuracy"]
        else:
            head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
            with torch.no_grad():
                head.weight.zero_()
                head.bias.zero_()
                head.bias[int(torch.bincount(dataset.val.labels).argmax())] = 1.0
            score, _ = evaluate(model.eval(), dataset, plan_device("cpu"), 256)
        metrics = {
            "accuracy": score,
            "params": count_params(model),
            "flops": count_flops(model, (1, 28, 28))["flops"],
            "val_images": len(dataset.val),
            "chance_accuracy": chance_accuracy(dataset.val.labels),
        }
        trial = study.ask()
        for key, value in {
            rf.ATTR_STATE: rf.COMPLETE,
            rf.ATTR_METRICS: metrics,
            rf.ATTR_EPOCHS: 2,
            rf.ATTR_ARCH: arch.to_dict(run_config=False),
            rf.ATTR_SUMMARY: arch.summary(),
        }.items():
            trial.set_user_attr(key, value)
        study.tell(trial, [metrics["accuracy"], metrics["flops"]])
        save_weights(model, folder / rf.TRIALS_DIR / str(trial.number) / rf.WEIGHTS_FILE)
        accuracy[trial.number] = score
    (folder / rf.RUN_FILE).write_text(
        json.dumps({rf.RUN_STATUS: rf.FINISHED, rf.RUN_STUDY_NAME: "q"})
    )
    write_tables(folder, study, analyse_study(study, run_dir=folder))  # as a search does
    return folder, accuracy


@pytest.mark.slow
def test_a_model_at_chance_is_marked_shown_and_skipped_by_export(nas, run_with_a_dud):
    run, accuracy = run_with_a_dud
    labels = load_dataset(DataConfig.from_dict(DATA)).val.labels
    majority = collections.Counter(labels.tolist()).most_common(1)[0][1] / len(labels)
    assert accuracy[1] == pytest.approx(majority)  # it answers the most frequent class
    assert accuracy[0] > 0.5

    report = nas("report", run, "--no-plots")
    assert report.code == 0, report.err
    assert "#1 (chance)" in report.out and "#0 " in report.out
    trials = pd.read_csv(run / rf.TRIALS_CSV)
    assert list(trials["quality"].fillna("")) == ["", "chance"]
    assert list(trials["pareto"]) == [True, True]  # still on the front, but marked

    exported = nas("export", run, "--format", "safetensors", "--no-check-accuracy")
    assert exported.code == 0, exported.err
    assert f"skipping trial 1: accuracy {100 * majority:.2f}% scored at chance" in exported.err
    assert "exported 1/1: trial 0" in exported.err
    assert sorted(p.name for p in (run / rf.EXPORT_DIR).iterdir()) == ["0"]
    assert 'load_model("' + str(run / rf.EXPORT_DIR / "0") in exported.out

    kept = nas("export", run, "--format", "safetensors", "--no-check-accuracy", "--include-chance")
    assert kept.code == 0, kept.err
    card = json.loads((run / rf.EXPORT_DIR / "1" / rf.METRICS_FILE).read_text())
    assert card["quality"] == "chance"
    hint = kept.out.split("load one:")[1]
    assert str(run / rf.EXPORT_DIR / "0") in hint  # the hint is never the dud

    alone = nas("export", run, "--pick", "1", "--format", "safetensors", "--no-check-accuracy")
    assert alone.code == 0, alone.err  # asked for by number: exported as asked


def test_the_page_rings_the_marked_trials_and_counts_them_in_the_legend():
    from nas.runs.html.figures import front_figure

    table = pd.DataFrame(
        {
            "number": [0, 1, 2],
            "state": rf.COMPLETE,
            "accuracy": [0.97, 0.11, 0.95],
            "flops": [2e6, 1e5, 3e6],
            "params": [1e4, 1e3, 2e4],
            "pareto": [True, True, False],
            "quality": ["", "chance", ""],
        }
    )
    traces = {t["name"]: t for t in front_figure(table)["data"]}
    ringed = traces["at chance or far below the run (1)"]
    assert ringed["x"] == [1e5] and ringed["customdata"][0][0] == 1
    assert "Pareto front (2)" in traces  # still drawn on the front, and ringed
