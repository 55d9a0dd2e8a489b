"""Datasets: readers on fake files in the real on-disk formats, splits, checks, augmentation."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluators.config import DataConfig
from evaluators.datasets import dataset_info, list_datasets, load_dataset
from evaluators.datasets.augment import _crop_gathered, augment, normalize, random_crop
from search_space.errors import SpaceError
from tests.evaluators.conftest import InputSpec, write_cifar, write_idx

GRAY28 = InputSpec(1, 28, 10)
RGB32 = InputSpec(3, 32, 10)


def test_the_registry_lists_every_dataset() -> None:
    assert list_datasets() == [
        "cifar10", "cifar100", "elpv", "fashion_mnist", "imagefolder", "mnist", "mnist5k"
    ]  # fmt: skip


def test_mnist5k_is_offline_and_split_60_20_20() -> None:
    data = load_dataset(DataConfig(), GRAY28)
    assert (len(data.train), len(data.val), len(data.test)) == (3000, 1000, 1000)
    assert data.train.images.dtype == torch.uint8 and data.train.images.shape[1:] == (1, 28, 28)
    assert data.classes == 10 and data.mean == (0.1307,) and data.augmentation == "digits"


def test_split_is_disjoint_seeded_and_independent_of_training() -> None:
    config = DataConfig(limit=600, split_seed=3)
    first, again = load_dataset(config, GRAY28), load_dataset(config, GRAY28)
    other = load_dataset(DataConfig(limit=600, split_seed=4), GRAY28)
    flat = lambda split: {bytes(image.numpy()) for image in split.images}  # noqa: E731
    assert torch.equal(first.val.images, again.val.images)
    assert torch.equal(first.train.labels, again.train.labels)
    assert not flat(first.train) & flat(first.val)
    assert (len(first.train), len(first.val), len(first.test)) == (360, 120, 120)
    assert not torch.equal(first.val.images, other.val.images)


def test_the_test_split_is_held_out_from_train_and_validation() -> None:
    with_test = load_dataset(DataConfig(limit=600, split_seed=3), GRAY28)
    without = load_dataset(DataConfig(limit=600, split_seed=3, test_fraction=0.0), GRAY28)
    flat = lambda split: {bytes(image.numpy()) for image in split.images}  # noqa: E731
    assert not flat(with_test.test) & (flat(with_test.train) | flat(with_test.val))
    # the validation images are the same with or without a test split: only train shrinks
    assert torch.equal(with_test.val.images, without.val.images) and without.test is None
    assert flat(with_test.train) | flat(with_test.test) == flat(without.train)


def test_cifar10_reads_the_python_pickle_batches(cifar10_root: Path) -> None:
    data = load_dataset(DataConfig(name="cifar10", root=str(cifar10_root)), RGB32)
    assert len(data.train) + len(data.val) == 5 * 20
    assert data.val.images.shape[1:] == (3, 32, 32) and data.augmentation == "natural"
    test = load_dataset(
        DataConfig(name="cifar10", root=str(cifar10_root), validation="test"), RGB32
    )
    # validating on the official test split, a test split comes from train only when asked
    assert (len(test.train), len(test.val), test.test) == (100, 20, None)
    carved = load_dataset(
        DataConfig(name="cifar10", root=str(cifar10_root), validation="test", test_fraction=0.1),
        RGB32,
    )
    assert (len(carved.train), len(carved.test)) == (90, 10)
    train = {bytes(image.numpy()) for image in test.train.images}
    assert {bytes(image.numpy()) for image in carved.test.images} <= train
    own = load_dataset(DataConfig(name="cifar10", root=str(cifar10_root)), RGB32)
    assert torch.equal(own.test.images, test.val.images)  # validation: split keeps it apart
    # rows are 1024 red, 1024 green, 1024 blue values: image 0's green plane starts at 1024
    with (cifar10_root / "cifar-10-batches-py" / "test_batch").open("rb") as file:
        row = pickle.load(file, encoding="latin1")["data"][0]
    assert torch.equal(test.val.images[0, 1].flatten(), torch.from_numpy(row[1024:2048]))


def test_cifar100_uses_fine_labels(cifar100_root: Path) -> None:
    config = DataConfig(name="cifar100", root=str(cifar100_root), validation="test")
    data = load_dataset(config, InputSpec(3, 32, 100))
    assert data.classes == 100 and data.train.labels.max() == 99


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
)
def test_idx_datasets_read_the_raw_folder(tmp_path: Path, name: str, folder: str) -> None:
    write_idx(tmp_path, folder)
    data = load_dataset(DataConfig(name=name, root=str(tmp_path), validation="test"), GRAY28)
    assert (len(data.train), len(data.val), data.test) == (60, 20, None)
    assert data.train.labels[:3].tolist() == [0, 1, 2]
    assert data.mean == dataset_info(name).mean


def test_imagefolder_uses_val_folder_and_measures_its_statistics(imagefolder_root: Path) -> None:
    config = DataConfig(name="imagefolder", root=str(imagefolder_root))
    data = load_dataset(config, InputSpec(3, 12, 2))
    assert (len(data.train), len(data.val), data.classes) == (8, 8, 2)
    assert sorted(data.val.labels.tolist()) == [0] * 4 + [1] * 4
    assert len(data.mean) == 3 and 0 < data.mean[0] < 1


def test_imagefolder_limit_decodes_a_seeded_subset(imagefolder_root: Path) -> None:
    config = DataConfig(name="imagefolder", root=str(imagefolder_root), limit=3)
    first, again = (
        load_dataset(config, InputSpec(3, 12, 2)),
        load_dataset(config, InputSpec(3, 12, 2)),
    )
    assert (len(first.train), len(first.val)) == (3, 3)
    assert torch.equal(first.train.images, again.train.images)


def test_imagefolder_resizes_only_when_asked(imagefolder_root: Path) -> None:
    config = DataConfig(name="imagefolder", root=str(imagefolder_root))
    with pytest.raises(SpaceError, match=r"12x12 but the architecture's input.resolution is 8x8"):
        load_dataset(config, InputSpec(3, 8, 2))
    resized = load_dataset(DataConfig(name="imagefolder", root=str(imagefolder_root), resize=True),
                           InputSpec(3, 8, 2))  # fmt: skip
    assert resized.train.images.shape[1:] == (3, 8, 8)


def test_unknown_dataset_suggests_the_closest_name() -> None:
    with pytest.raises(SpaceError, match=r"unknown dataset 'cifar' \(did you mean 'cifar10'\?\)"):
        load_dataset(DataConfig(name="cifar"), RGB32)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cifar10", "cifar-10-batches-py/data_batch_1 does not exist"),
        ("mnist", "MNIST/raw/train-images-idx3-ubyte does not exist"),
        ("imagefolder", "imagefolder needs"),
    ],
)
def test_missing_root_names_the_path_and_the_fix(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(SpaceError) as error:
        load_dataset(DataConfig(name=name, root=str(tmp_path / "nowhere")), RGB32)
    message = str(error.value)
    assert expected in message and "data.root" in message
    if name != "imagefolder":
        assert "download: true" in message


def test_channel_and_resolution_mismatches_name_the_fix() -> None:
    with pytest.raises(SpaceError, match=r"have 1 channel but .* input.channels is 3"):
        load_dataset(DataConfig(limit=50), RGB32)
    with pytest.raises(SpaceError, match=r"28x28 but .* is 32x32; set input.resolution: 28"):
        load_dataset(DataConfig(limit=50, convert_channels=True), RGB32)
    data = load_dataset(DataConfig(limit=50, convert_channels=True, resize=True), RGB32)
    assert data.train.images.shape[1:] == (3, 32, 32) and len(data.mean) == 3


def test_rgb_to_gray_conversion(cifar10_root: Path) -> None:
    config = DataConfig(name="cifar10", root=str(cifar10_root), convert_channels=True)
    assert load_dataset(config, InputSpec(1, 32, 10)).train.images.shape[1] == 1


def test_too_few_classes_in_the_head_is_refused(cifar100_root: Path) -> None:
    with pytest.raises(SpaceError, match=r"has 100 classes but .* input.classes is 10"):
        load_dataset(DataConfig(name="cifar100", root=str(cifar100_root)), RGB32)


def test_mnist5k_has_no_test_split() -> None:
    with pytest.raises(SpaceError, match="mnist5k has no test split"):
        load_dataset(DataConfig(validation="test"), GRAY28)


def test_cifar_pickles_cannot_run_code(tmp_path: Path) -> None:
    root = write_cifar(tmp_path)
    with (root / "cifar-10-batches-py" / "data_batch_1").open("wb") as file:
        pickle.dump({"data": print, "labels": []}, file)  # a reference to a callable
    refused = r"data_batch_1 \(UnpicklingError: refusing to load builtins\.print"
    with pytest.raises(SpaceError, match=refused):
        load_dataset(DataConfig(name="cifar10", root=str(root)), RGB32)


def test_augmentation_is_seeded_and_keeps_shape() -> None:
    images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    first = augment(images, "natural", torch.Generator().manual_seed(0))
    again = augment(images, "natural", torch.Generator().manual_seed(0))
    assert first.shape == images.shape and first.dtype == torch.uint8
    assert torch.equal(first, again) and not torch.equal(first, images)
    assert augment(images, None, torch.Generator()) is images


def test_random_crop_shifts_content_and_pads_with_zeros() -> None:
    image = torch.arange(1, 17, dtype=torch.uint8).view(1, 1, 4, 4).repeat(64, 1, 1, 1)
    crops = random_crop(image, 2, torch.Generator().manual_seed(1))
    for crop in crops:  # each crop is the image shifted, zeros where it left the frame
        inside = crop[crop > 0]
        assert set(inside.tolist()) <= set(range(1, 17)) and len(inside) >= 4
    assert len({bytes(c.numpy()) for c in crops}) > 5


def test_crop_and_flip_match_numpy_slicing_with_the_same_draws() -> None:
    images = torch.randint(0, 256, (12, 3, 9, 7), dtype=torch.uint8)
    out = augment(images, "natural", torch.Generator().manual_seed(2))
    generator = torch.Generator().manual_seed(2)  # the same draws, in augment's order
    top = torch.randint(0, 9, (12, 1), generator=generator)
    left = torch.randint(0, 9, (12, 1), generator=generator)
    flip = torch.rand(12, generator=generator) < 0.5
    padded = np.pad(images.numpy(), ((0, 0), (0, 0), (4, 4), (4, 4)))
    for i, (y, x) in enumerate(zip(top.flatten().tolist(), left.flatten().tolist())):
        expected = padded[i, :, y : y + 9, x : x + 7]
        expected = expected[:, :, ::-1] if flip[i] else expected
        assert np.array_equal(out[i].numpy(), expected), i
    assert 0 < int(flip.sum()) < 12  # both branches were taken
    gathered = _crop_gathered(torch.from_numpy(padded), top, left, images.shape[2:])
    assert torch.equal(gathered, random_crop(images, 4, torch.Generator().manual_seed(2)))


def test_normalize_matches_the_formula() -> None:
    images = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)
    out = normalize(images, (0.5,), (0.25,))
    assert out.flatten().tolist() == pytest.approx([-2.0, 2.0])


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, True),  # mnist5k holds 1,000 test images out
        ({"test_fraction": 0.0}, False),
        ({"name": "cifar10"}, True),  # its own test split
        ({"name": "cifar10", "validation": "test"}, False),  # the test split validates
        ({"name": "cifar10", "validation": "test", "test_fraction": 0.1}, True),
        ({"name": "imagefolder"}, False),
    ],
)
def test_keeps_test_split_agrees_with_what_loading_gives(settings: dict, expected: bool) -> None:
    from evaluators.datasets import keeps_test_split

    assert keeps_test_split(DataConfig(**settings)) is expected
    if settings.get("name", "mnist5k") == "mnist5k":  # loading agrees
        assert (
            load_dataset(DataConfig(limit=200, **settings), GRAY28).test is not None
        ) is expected
