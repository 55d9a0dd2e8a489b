"""Relative paths in a space file are read from the file's folder; `nas validate` checks
that the data is there and names the absolute folder when it is not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nas.engine.config import resolve_experiment
from tests.evaluators.conftest import write_imagefolder


def folder_space(path: Path, root: str, **search) -> Path:
    space = {
        "name": "folder",
        "input": {"channels": 3, "resolution": 12, "classes": 2},
        "stem": {"type": "conv", "width": [4, 8], "stride": 2},
        "stages": [{"block": "resnet", "depth": 1, "width": 8, "stride": 2, "kernel": 3}],
        "head": {"pool": "avg"},
        "data": {"name": "imagefolder", "root": root},
        "search": {"objectives": {"accuracy": "max", "flops": "min"}, **search},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(space, sort_keys=False))
    return path


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is not the space file's folder."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_data_root_and_output_in_a_space_file_are_read_from_its_folder(
    tmp_path: Path, elsewhere: Path
) -> None:
    project = tmp_path / "project"
    write_imagefolder(project / "images")
    space = folder_space(project / "spaces" / "s.yaml", "../images", output="../runs/first")
    experiment = resolve_experiment(str(space), {})
    assert experiment.data.root == str(project / "images")
    assert experiment.run_dir == project / "runs" / "first"
    assert experiment.to_document()["data"]["root"] == str(project / "images")  # config.yaml
    assert experiment.notes == []


def test_a_root_given_as_a_flag_is_read_from_the_working_directory(
    tmp_path: Path, elsewhere: Path
) -> None:
    write_imagefolder(elsewhere / "mine")
    space = folder_space(tmp_path / "project" / "s.yaml", "images")
    experiment = resolve_experiment(str(space), {"data": {"root": "mine"}})
    assert experiment.data.root == str(elsewhere / "mine")


def test_a_root_that_exists_only_under_the_working_directory_is_used_with_a_note(
    tmp_path: Path, elsewhere: Path
) -> None:
    write_imagefolder(elsewhere / "images")
    space = folder_space(tmp_path / "project" / "s.yaml", "images")
    experiment = resolve_experiment(str(space), {})
    assert experiment.data.root == str(elsewhere / "images")
    (remark,) = experiment.notes
    assert str(tmp_path / "project" / "images") in remark  # where it looked first
    assert f"data.root: {elsewhere / 'images'}" in remark  # the line to write instead


def test_validate_counts_the_images_it_finds(nas, tmp_path: Path, elsewhere: Path) -> None:
    write_imagefolder(tmp_path / "project" / "images", per_class=3)
    space = folder_space(tmp_path / "project" / "s.yaml", "images")
    result = nas("validate", space, "--json")
    assert result.code == 0, result.err
    expected = f"imagefolder at {tmp_path / 'project' / 'images'}: 2 classes, 6 training"
    assert result.json()["data"].startswith(expected)


def test_validate_refuses_a_missing_data_folder_naming_its_absolute_path(
    nas, tmp_path: Path, elsewhere: Path
) -> None:
    space = folder_space(tmp_path / "project" / "s.yaml", "images")
    result = nas("validate", space)
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert f"{tmp_path / 'project' / 'images'} does not exist" in line
    assert "--no-data-check" in line and "Traceback" not in result.err
    skipped = nas("validate", space, "--no-data-check")
    assert skipped.code == 0, skipped.err
    assert "data: not checked" in skipped.out


def test_validate_refuses_a_folder_with_more_classes_than_the_space(
    nas, tmp_path: Path, elsewhere: Path
) -> None:
    write_imagefolder(tmp_path / "images", classes=("a", "b", "c"))
    result = nas("validate", folder_space(tmp_path / "s.yaml", "images"))
    assert result.code == 2 and "set input.classes: 3" in result.err, result.err


def test_validate_refuses_a_missing_torchvision_set_unless_it_may_download(
    nas, write_space, tmp_path: Path
) -> None:
    space = {
        "name": "c",
        "input": {"channels": 3, "resolution": 32, "classes": 10},
        "stem": {"type": "conv", "width": 8},
        "stages": [{"block": "resnet", "depth": 1, "width": 8, "stride": 1, "kernel": 3}],
        "data": {"name": "cifar10", "root": "nothing-here"},
    }
    missing = nas("validate", write_space(space))
    assert missing.code == 2
    assert str(tmp_path / "nothing-here" / "cifar-10-batches-py") in missing.err
    space["data"]["download"] = True
    allowed = nas("validate", write_space(space), "--json")
    assert allowed.code == 0, allowed.err
    assert "downloaded there when a search starts" in allowed.json()["data"]


def test_train_reads_an_architecture_files_data_root_from_its_folder(
    nas, tmp_path: Path, elsewhere: Path
) -> None:
    write_imagefolder(tmp_path / "project" / "images", per_class=4)
    arch = yaml.safe_load(folder_space(tmp_path / "project" / "a.yaml", "images").read_text())
    arch["stem"]["width"] = 4  # every value fixed: an architecture
    arch["train"] = {"epochs": 1, "batch_size": 4}
    path = tmp_path / "project" / "a.yaml"
    path.write_text(yaml.safe_dump(arch, sort_keys=False))
    result = nas("train", path, "--json")
    assert result.code == 0, result.err
    assert "on imagefolder (8 train / 8 val images)" in result.err
