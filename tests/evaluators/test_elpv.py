"""elpv: the solar-cell images read from the package's on-disk layout, label choices, a
stratified split, and a one-line answer when the package is not installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from evaluators.config import DataConfig
from evaluators.datasets import describe_source, elpv, load_dataset
from search_space.errors import SpaceError
from tests.evaluators.conftest import InputSpec, write_elpv

GRAY32 = InputSpec(1, 32, 4)


def _config(folder: Path, **settings) -> DataConfig:
    return DataConfig(name="elpv", root=str(folder), **settings)


def _indices(split) -> list[int]:
    """Which fake image each row holds: image i is filled with the value i."""
    return [int(image[0, 0, 0]) for image in split.images]


def _group(index: int) -> int:  # write_elpv's layout
    return (index // 2) % 8


@pytest.fixture
def elpv_root(tmp_path: Path) -> Path:
    return write_elpv(tmp_path / "data")


def test_images_are_resized_to_the_input_and_every_image_lands_in_one_split(elpv_root) -> None:
    data = load_dataset(_config(elpv_root), GRAY32)
    assert data.train.images.shape[1:] == (1, 32, 32) and data.classes == 4
    rows = _indices(data.train) + _indices(data.val) + _indices(data.test)
    assert sorted(rows) == list(range(80))  # disjoint and complete


def test_the_split_is_stratified_by_probability_and_cell_type(elpv_root) -> None:
    data = load_dataset(_config(elpv_root, split_seed=5), GRAY32)
    # 10 images per (probability, type) group: 20% of 10 = 2 in validation, 2 in test, 6 train
    for split, share in ((data.val, 2), (data.test, 2), (data.train, 6)):
        groups = torch.tensor([_group(i) for i in _indices(split)])
        assert torch.bincount(groups, minlength=8).tolist() == [share] * 8


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("defect", lambda group: group // 2),  # probability 0, 1/3, 2/3, 1 -> 0..3
        ("defective", lambda group: int(group // 2 >= 2)),  # p >= 0.5
        ("cell_type", lambda group: group % 2),  # mono 0, poly 1
    ],
)
def test_each_label_choice_names_the_class_from_the_csv(elpv_root, labels, expected) -> None:
    data = load_dataset(_config(elpv_root, labels=labels), InputSpec(1, 32, 4))
    for split in (data.train, data.val, data.test):
        truth = [expected(_group(i)) for i in _indices(split)]
        assert split.labels.tolist() == truth
    assert data.classes == (4 if labels == "defect" else 2)


def test_the_held_out_images_do_not_depend_on_the_label_choice(elpv_root) -> None:
    defect = load_dataset(_config(elpv_root), GRAY32)
    binary = load_dataset(_config(elpv_root, labels="defective"), InputSpec(1, 32, 2))
    assert _indices(defect.val) == _indices(binary.val)
    assert _indices(defect.test) == _indices(binary.test)
    other_seed = load_dataset(_config(elpv_root, split_seed=1), GRAY32)
    assert _indices(other_seed.val) != _indices(defect.val)


def test_gray_images_convert_to_rgb_when_asked(elpv_root) -> None:
    data = load_dataset(_config(elpv_root, convert_channels=True), InputSpec(3, 32, 4))
    image = data.val.images[0]
    assert image.shape == (3, 32, 32) and torch.equal(image[0], image[2])


def test_an_unknown_label_choice_lists_the_choices(elpv_root) -> None:
    with pytest.raises(SpaceError, match=r"data.labels: elpv has no labels 'defects' \(did you"):
        load_dataset(_config(elpv_root, labels="defects"), GRAY32)


def test_labels_on_a_dataset_with_one_set_of_labels_is_refused() -> None:
    with pytest.raises(SpaceError, match=r"data\.labels: mnist5k has one set of labels"):
        load_dataset(DataConfig(labels="defect"), InputSpec(1, 28, 10))


def test_a_missing_package_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(SpaceError) as error:
        describe_source(DataConfig(name="elpv"))
    assert error.value.problems == [
        "data: elpv needs the elpv-dataset package, which is not installed; "
        "install it with: pip install 'nas-vision[elpv]'"
    ]


def test_the_installed_package_is_found_on_the_import_path(tmp_path, monkeypatch) -> None:
    package = tmp_path / "site" / "elpv_dataset"
    write_elpv(package / "data", per_group=2)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))  # ahead of a real install
    importlib.invalidate_caches()
    assert elpv.data_folder(DataConfig(name="elpv")) == package / "data"
    assert "16 images, labels defect (4 classes)" in describe_source(DataConfig(name="elpv"))


def test_a_bad_csv_line_is_named(elpv_root) -> None:
    csv = elpv_root / "labels.csv"
    csv.write_text(csv.read_text() + "images/cell9999.png  0.5  mono\n")
    with pytest.raises(SpaceError, match=r"line 81 .*probability 0.5 is not 0, 1/3, 2/3 or 1"):
        load_dataset(_config(elpv_root), GRAY32)


def test_the_search_command_says_how_to_install_the_package(nas, write_space, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    space = {
        "name": "cells",
        "input": {"channels": 1, "resolution": 32, "classes": 4},
        "stem": {"type": "conv", "width": 8},
        "stages": [{"block": "resnet", "depth": 1, "width": 8}],
        "head": {"pool": "avg"},
        "data": {"name": "elpv"},
    }
    result = nas("validate", write_space(space))
    assert result.code == 2 and "Traceback" not in result.err
    assert "install it with: pip install 'nas-vision[elpv]'" in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("elpv_dataset") is None, reason="no elpv extra")
def test_the_real_package_has_the_published_class_counts() -> None:
    data = load_dataset(DataConfig(name="elpv"), InputSpec(1, 32, 4))
    labels = torch.cat([data.train.labels, data.val.labels, data.test.labels])
    # Buerhop-Lutz et al. 2018: 1,508 / 295 / 106 / 715 cells of probability 0 / 1/3 / 2/3 / 1
    assert torch.bincount(labels).tolist() == [1508, 295, 106, 715]
    assert (len(data.val), len(data.test)) == (525, 525)
    assert 0.0 < data.mean[0] < 1.0 and data.std[0] > 0.05


@pytest.mark.parametrize("fraction", [0.1, 0.25])
def test_stratified_order_takes_each_groups_share(fraction: float) -> None:
    from evaluators.datasets.base import stratified_order

    strata = torch.tensor([0] * 40 + [1] * 20 + [2] * 8)
    val, test, train = stratified_order(strata, (fraction, fraction), seed=0)
    for group, size in ((0, 40), (1, 20), (2, 8)):
        share = round(size * fraction)
        assert int((strata[val] == group).sum()) == share
        assert int((strata[test] == group).sum()) == share
        assert int((strata[train] == group).sum()) == size - 2 * share
    assert sorted(torch.cat([val, test, train]).tolist()) == list(range(68))
