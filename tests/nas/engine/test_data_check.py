"""The search's data check: a cached dataset is decoded once, in full, in the driver,
with a progress line, before any trial; the trials then open that one cache entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from evaluators.datasets import load_dataset
from nas.engine.config import resolve_experiment
from nas.engine.study import check_data

TRAIN_PER_CLASS, VAL_PER_CLASS = 45, 10  # 90 training images: more than the old 64-image probe


def photo_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for part, count in (("train", TRAIN_PER_CLASS), ("val", VAL_PER_CLASS)):
        for name in ("ant", "bee"):
            (root / part / name).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / part / name / f"{i}.png")
    return root


def folder_space(tmp_path: Path, root: Path) -> Path:
    space = {
        "name": "folder",
        "input": {"channels": 3, "resolution": 8, "classes": 2},
        "stem": {"type": "conv", "width": [4, 8], "stride": 2},
        "stages": [{"block": "resnet", "depth": 1, "width": 8, "stride": 2, "kernel": 3}],
        "head": {"pool": "avg"},
        "data": {"name": "imagefolder", "root": str(root), "resize": True},
        "train": {"epochs": 1, "batch_size": 16},
        "search": {"objectives": {"accuracy": "max", "flops": "min"}},
    }
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False))
    return path


def cache_entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if p.is_dir())


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("NAS_CACHE", str(folder))
    return folder


def test_the_check_decodes_the_whole_folder_once_and_the_trials_reuse_it(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture
) -> None:
    experiment = resolve_experiment(str(folder_space(tmp_path, photo_folder(tmp_path / "img"))), {})
    check_data(experiment)
    err = capsys.readouterr().err
    train, val = 2 * TRAIN_PER_CLASS, 2 * VAL_PER_CLASS
    assert f"decoding imagefolder train: {train}/{train} images" in err, err
    assert f"decoding imagefolder val: {val}/{val} images" in err, err
    (entry,) = cache_entries(cache)  # one entry: no partial one beside it
    assert np.load(entry / "train_images.npy", mmap_mode="r").shape == (train, 3, 8, 8)
    assert not list(cache.glob(".tmp-*"))

    trial_view = load_dataset(experiment.data, experiment.space.input)  # what a trial does
    assert not trial_view.decoded and trial_view.cache == entry
    assert len(trial_view.train) == train and len(trial_view.val) == val
    assert "decoding" not in capsys.readouterr().err

    check_data(experiment)  # a second search on the same folder: says where the data is
    again = capsys.readouterr().err
    assert "decoding" not in again and str(entry) in again
    assert f"{train} training and {val} validation images" in again


def test_a_limited_search_decodes_only_its_subset_under_the_trials_key(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture
) -> None:
    space = folder_space(tmp_path, photo_folder(tmp_path / "img"))
    experiment = resolve_experiment(str(space), {"data": {"limit": 30}})
    check_data(experiment)
    assert "decoding imagefolder train: 30/30 images" in capsys.readouterr().err
    (entry,) = cache_entries(cache)
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["key"]["subset"] == [30, experiment.data.split_seed]
    assert not load_dataset(experiment.data, experiment.space.input).decoded


def test_decoding_into_a_log_says_when_it_starts(tmp_path: Path) -> None:
    from evaluators.datasets.progress import Progress

    log = (tmp_path / "log.txt").open("w+")
    progress = Progress("decoding x", 900, stream=log)
    progress.advance(900)
    progress.finish()
    log.seek(0)
    lines = log.read().splitlines()
    assert lines[0] == "decoding x: 900 images, started"
    assert lines[-1].startswith("decoding x: 900/900 images") and lines[-1].endswith("done")


@pytest.mark.slow
def test_a_search_on_an_image_folder_decodes_it_before_the_first_trial(
    nas, tmp_path: Path, cache: Path
) -> None:
    space = folder_space(tmp_path, photo_folder(tmp_path / "img"))
    run = tmp_path / "run"
    result = nas(
        "search", space, "--trials", 2, "--max-concurrent", 1, "--seed", 0, "--no-plots",
        "--output", run, "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json()["decided"] == 2
    train = 2 * TRAIN_PER_CLASS
    decoded = result.err.index(f"decoding imagefolder train: {train}/{train} images")
    assert decoded < result.err.index("nas search:"), result.err  # before the search starts
    (entry,) = cache_entries(cache)  # the trials reused it: no second (or partial) entry
    assert json.loads((entry / "meta.json").read_text())["key"]["subset"] is None
