"""`nas train`: flags over the file's sections, one JSON document, one-line user errors."""

from __future__ import annotations

import json

import pytest

ARCH = {
    "name": "tiny",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": 8, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 16, "stride": 2, "kernel": 3}],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 400},
    "train": {"epochs": 3, "batch_size": 64, "lr": 0.01},
}


def test_json_output_is_one_document_with_the_scores(nas, write_space) -> None:
    result = nas("train", write_space(ARCH), "--epochs", "1", "--seed", "2", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)  # the whole of stdout is one document
    assert {"accuracy", "loss", "train_seconds", "images_per_second"} <= set(report)
    assert report["epochs"] == 1 and report["train"]["epochs"] == 1  # the flag won
    assert report["train"]["lr"] == 0.01 and report["data"]["limit"] == 400  # the file's
    # limit 400: 80 validation and 80 held-out test images (mnist5k's 20% each), 240 train
    assert report["train_images"] == 240 and report["seed"] == 2
    assert "epoch 1/1: val accuracy" in result.err
    confusion = report["confusion"]  # rows: true class, from the same pass as accuracy
    assert sum(map(sum, confusion)) == report["val_images"] == 80
    assert sum(confusion[i][i] for i in range(10)) / 80 == pytest.approx(report["accuracy"])
    assert 0 <= report["balanced_accuracy"] <= 1 and 0 <= report["macro_f1"] <= 1


def test_human_output_goes_to_stdout_and_weights_can_be_saved(nas, write_space, tmp_path) -> None:
    weights = tmp_path / "out" / "weights.safetensors"
    result = nas("train", write_space(ARCH), "--epochs", "1", "--save-weights", weights)
    assert result.code == 0, result.err
    assert "val accuracy" in result.out and weights.stat().st_size > 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--data", "cifar"], "did you mean 'cifar10'?"),
        (["--epochs", "0"], "error: --epochs: 0 must be at least 1"),
        (["--data", "cifar10", "--data-root", "/nonexistent"], "set data.root"),
        (["--device", "gpu"], "error: --device: 'gpu' is not a device"),
    ],
)
def test_user_errors_exit_2_with_one_line(nas, write_space, flags: list[str], message: str) -> None:
    result = nas("train", write_space(ARCH), *flags, "--json")
    assert result.code == 2 and result.out == ""
    assert message in result.err and "Traceback" not in result.err


def test_bad_flags_are_named_as_flags_all_at_once(nas, write_space) -> None:
    flags = ["--epochs", "0", "--data", "nosuch", "--batch-size", "-1", "--limit", "1"]
    result = nas("train", write_space(ARCH), *flags)
    assert result.code == 2 and result.out == ""
    lines = sorted(line.split("error: ", 1)[1] for line in result.err.strip().splitlines())
    assert len(lines) == 4, result.err
    assert lines[0] == "--batch-size: -1 must be at least 1"
    assert lines[1].startswith("--data: unknown dataset 'nosuch'; choose one of")
    assert lines[2] == "--epochs: 0 must be at least 1"
    assert lines[3] == "--limit: 1 must be at least 2 (or null for all)"
    # a bad value written in the file is still named by its key path
    bad_file = write_space({**ARCH, "train": {**ARCH["train"], "epochs": 0}}, "bad.yaml")
    from_file = nas("train", bad_file)
    assert from_file.code == 2 and "train.epochs: 0 must be at least 1" in from_file.err
