"""Bad inputs that used to end in a traceback, a hang, or an answer the data cannot carry:
each is now one line naming the problem and the fix, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nas.runs import format as rf
from tests.nas.engine.test_search import BIG, SPACE
from tests.nas.runs.test_report import TRIALS, make_run


def _one_line(result, *fragments: str) -> str:
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    make_run(tmp_path / "run", TRIALS)
    return tmp_path / "run"


def _config(run: Path, data: dict, classes: int = 10) -> None:
    (run / rf.CONFIG_FILE).write_text(
        yaml.safe_dump(
            {"input": {"channels": 1, "resolution": 28, "classes": classes}, "data": data}
        )
    )


# --- compare ------------------------------------------------------------------------


def test_compare_output_naming_a_file_is_one_line(nas, run_dir, tmp_path):
    other = tmp_path / "other"
    make_run(other, TRIALS)
    target = tmp_path / "a-file"
    target.write_text("keep me")
    _one_line(nas("compare", run_dir, other, "--output", target), "is a file")
    assert target.read_text() == "keep me"


def test_compare_refuses_runs_with_other_directions(nas, run_dir, tmp_path):
    other = tmp_path / "other"
    flipped = [
        {"name": "accuracy", "direction": "maximize"},
        {"name": "flops", "direction": "maximize"},
    ]
    make_run(other, TRIALS, objectives=flipped)
    _one_line(nas("compare", run_dir, other), "flops max", "flops min", "same objectives")


def test_compare_refuses_runs_scored_on_other_data(nas, run_dir, tmp_path):
    other = tmp_path / "other"
    make_run(other, TRIALS)
    _config(run_dir, {"name": "mnist5k"}, classes=10)
    _config(other, {"name": "imagefolder", "root": "/data/leaves"}, classes=2)
    _one_line(nas("compare", run_dir, other, "--output", ""), "same data", "classes 2")


# --- verify -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seeds", str(10**24)], "--seeds: 1000000000000000000000000 must be"),
        (["--seeds", "0"], "--seeds: 0 must be"),
        (["--threads", "0"], "--threads: 0 must be at least 1"),
    ],
)
def test_verify_refuses_absurd_seeds_and_threads_before_reading_the_run(
    nas, run_dir, args, fragment
):
    _one_line(nas("verify", run_dir, *args), fragment)
    assert not (run_dir / rf.VERIFY_CSV).exists()


# --- analyze ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("band", "fragment"),
    [
        ("flops=5e6:1e6", "did you mean flops=1e6:5e6?"),
        ("flops=nan:1e6", "finite numbers"),
        ("flops=1e6:inf", "finite numbers"),
        ("accuracy=0.1:0.5", "not by 'accuracy'"),
    ],
)
def test_analyze_refuses_bands_it_cannot_answer(nas, run_dir, band, fragment):
    _one_line(nas("analyze", run_dir, "--band", band, "--no-report"), fragment)


def test_analyze_on_a_run_without_a_complete_trial_says_so(nas, tmp_path):
    make_run(tmp_path / "run", [(rf.FAILED, {}), (rf.INFEASIBLE, {"accuracy": 0.5, "flops": 1})])
    _one_line(nas("analyze", tmp_path / "run", "--no-report"), "no complete trial to analyze")


# --- zoo ----------------------------------------------------------------------------


@pytest.fixture
def resnet18_checkpoint(tmp_path: Path) -> Path:
    from safetensors.torch import save_file

    from tests.search_space.test_timm_parity import perturbed_timm_model

    checkpoint = tmp_path / "timm.safetensors"
    state = perturbed_timm_model("resnet18").state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, checkpoint)
    return checkpoint


def test_zoo_output_naming_a_folder_or_an_unwritable_path_is_one_line(
    nas, tmp_path, resnet18_checkpoint
):
    folder = tmp_path / "out"
    folder.mkdir()
    convert = ["zoo", "resnet18", "--timm-weights", resnet18_checkpoint, "--output"]
    _one_line(nas(*convert, folder), "is a folder", f"{folder}/resnet18.safetensors")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _one_line(nas(*convert, blocker / "sub" / "w.safetensors"), "cannot be written")


# --- storage URLs -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["notadb://x", "redis://localhost:6379/0"])
def test_an_unknown_storage_scheme_in_the_space_file_is_one_line(nas, write_space, tmp_path, url):
    space = write_space({**SPACE, "search": {**SPACE["search"], "storage": url}})
    line = _one_line(nas("search", space, "--output", tmp_path / "r"), "unknown database kind")
    assert f"{space}: search.storage {url}" in line
    assert not (tmp_path / "r").exists()


# --- image folders and the dataset cache ------------------------------------------


def _imagefolder_space(write_space, root: Path, classes: int) -> Path:
    return write_space(
        {
            **BIG,  # an architecture: every value fixed
            "input": {"channels": 3, "resolution": 12, "classes": classes},
            "data": {"name": "imagefolder", "root": str(root), "resize": True},
        }
    )


def test_an_empty_class_folder_is_refused(nas, write_space, tmp_path):
    from tests.evaluators.conftest import write_imagefolder

    root = write_imagefolder(tmp_path / "images", classes=("cat", "dog", "owl"))
    for image in (root / "train" / "owl").iterdir():
        image.unlink()
    result = nas("train", _imagefolder_space(write_space, root, 3), "--epochs", 1)
    _one_line(result, "class folders without images: owl")


def test_fewer_class_folders_than_input_classes_is_refused(nas, write_space, tmp_path):
    from tests.evaluators.conftest import write_imagefolder

    root = write_imagefolder(tmp_path / "images", classes=("cat", "dog"))
    result = nas("train", _imagefolder_space(write_space, root, 10), "--epochs", 1)
    _one_line(result, "has 2 class folders but the architecture's input.classes is 10")


def test_a_truncated_cache_array_is_detected_and_decoded_again(tmp_path, capsys):
    from evaluators.config import DataConfig
    from evaluators.datasets import load_dataset
    from tests.evaluators.conftest import InputSpec, write_imagefolder

    root = write_imagefolder(tmp_path / "images", per_class=5)
    config = DataConfig(name="imagefolder", root=str(root), resize=True, in_memory=True)
    first = load_dataset(config, InputSpec(3, 12, 2))
    images = first.cache / "train_images.npy"
    reference = np.load(images)
    data = images.read_bytes()
    images.write_bytes(data[: len(data) - 100])  # a cut file: np.load would raise
    capsys.readouterr()
    again = load_dataset(config, InputSpec(3, 12, 2))
    assert again.decoded  # rebuilt, not trained on
    assert "is damaged" in capsys.readouterr().err
    assert np.array_equal(np.load(again.cache / "train_images.npy"), reference)
    assert json.loads((again.cache / "meta.json").read_text())["classes"] == ["cat", "dog"]


@pytest.mark.slow
@pytest.mark.parametrize("device", [["cpu", "cuda"], "cuda"])
def test_a_cuda_device_without_a_gpu_per_trial_is_refused_before_any_trial(
    nas, write_space, tmp_path, device
):
    space = write_space({**SPACE, "train": {**SPACE["train"], "device": device}})
    result = nas("search", space, "--gpus-per-trial", 0, "--output", tmp_path / "r")
    _one_line(result, "train.device: cuda needs a GPU", "choose cpu or auto")
    assert not (tmp_path / "r").exists()
