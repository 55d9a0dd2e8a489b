"""The dataset cache: keyed by content, decoded once, read from disk like from memory."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evaluators.config import DataConfig
from evaluators.datasets import load_dataset
from evaluators.datasets.base import channel_stats
from evaluators.datasets.disk import DiskImages
from search_space.errors import SpaceError
from tests.evaluators.conftest import InputSpec, write_cifar

RGB16 = InputSpec(3, 16, 3)
REPO = Path(__file__).resolve().parents[2]


def photo_folder(root: Path, per_class: int = 6, size: tuple[int, int] = (24, 20)) -> Path:
    """train/ and val/ with 3 classes of random-pixel PNGs and JPEGs of one size (W, H)."""
    rng = np.random.default_rng(0)
    for part in ("train", "val"):
        for label in range(3):
            folder = root / part / f"class{label}"
            folder.mkdir(parents=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                suffix = "png" if i % 2 else "jpg"
                Image.fromarray(pixels).save(folder / f"{i}.{suffix}")
    return root


def folder_config(root: Path, **settings) -> DataConfig:
    return DataConfig(name="imagefolder", root=str(root), resize=True, **settings)


def test_cached_pixels_match_torchvision_resize_and_center_crop(tmp_path: Path) -> None:
    from torchvision import transforms

    root = photo_folder(tmp_path)
    data = load_dataset(folder_config(root, in_memory=False), RGB16)
    assert data.train.on_disk and data.decoded and len(data.train) == 18
    source = sorted((root / "train" / "class0").iterdir())[1]  # 1.png, the 2nd file of class 0
    with Image.open(source) as image:
        expected = transforms.CenterCrop(16)(transforms.Resize(16)(image.convert("RGB")))
    reference = torch.from_numpy(np.array(expected)).permute(2, 0, 1)
    assert torch.equal(data.train.images[1], reference)


def test_reloading_reuses_the_cache_and_a_changed_file_changes_the_key(tmp_path: Path) -> None:
    root = photo_folder(tmp_path)
    first = load_dataset(folder_config(root), RGB16)
    again = load_dataset(folder_config(root), RGB16)
    assert first.decoded and not again.decoded and again.cache == first.cache
    changed = root / "val" / "class2" / "3.png"
    Image.fromarray(np.zeros((20, 24, 3), dtype=np.uint8)).save(changed)
    os.utime(changed, ns=(1, 1))  # a different modification time, whatever the clock
    after = load_dataset(folder_config(root), RGB16)
    assert after.decoded and after.cache != first.cache
    other_size = load_dataset(folder_config(root), InputSpec(3, 8, 3))
    assert other_size.decoded and other_size.cache not in (first.cache, after.cache)


def test_disk_and_memory_give_identical_batches(tmp_path: Path) -> None:
    root = photo_folder(tmp_path, per_class=10)
    disk = load_dataset(folder_config(root, in_memory=False, num_workers=2), RGB16)
    memory = load_dataset(folder_config(root, in_memory=True, num_workers=0), RGB16)
    assert disk.train.on_disk and not memory.train.on_disk
    batches = [list(d.train_batches(7, torch.Generator().manual_seed(5))) for d in (disk, memory)]
    assert len(batches[0]) == len(batches[1]) == 30 // 7
    for (disk_images, disk_labels), (mem_images, mem_labels) in zip(*batches):
        assert torch.equal(disk_images, mem_images) and torch.equal(disk_labels, mem_labels)
    seen = torch.cat([labels for _, labels in batches[0]])
    assert len(seen) == 28 and sorted(np.bincount(seen.numpy()).tolist())[0] >= 8
    disk_val = torch.cat([images for images, _ in disk.val_batches(4)])
    assert torch.equal(disk_val, memory.val.images)


def test_disk_images_index_like_a_tensor(tmp_path: Path) -> None:
    array = np.random.default_rng(1).integers(0, 256, (50, 2, 3, 4), dtype=np.uint8)
    np.save(tmp_path / "a.npy", array)
    images = DiskImages(tmp_path / "a.npy")
    index = torch.tensor([40, 3, 4, 5, 3, 49, 0])  # unsorted, a run, a repeat
    assert torch.equal(images[index], torch.from_numpy(array[index.numpy()]))
    assert torch.equal(images[10:13], torch.from_numpy(array[10:13]))
    view = images.subset(torch.tensor([9, 8, 7]))
    assert view.shape == (3, 2, 3, 4) and torch.equal(view[1:], torch.from_numpy(array[[8, 7]]))


def test_split_seed_gives_the_same_split_from_disk_and_memory(tmp_path: Path) -> None:
    root = write_cifar(tmp_path)
    config = {"name": "cifar10", "root": str(root), "split_seed": 3}
    disk = load_dataset(DataConfig(**config, in_memory=False), InputSpec(3, 32, 10))
    memory = load_dataset(DataConfig(**config, in_memory=True), InputSpec(3, 32, 10))
    assert disk.val.on_disk and len(disk.val) == 10
    assert torch.equal(disk.val.images[0:10], memory.val.images)
    assert torch.equal(disk.train.labels, memory.train.labels)


def test_decoding_shows_progress(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    load_dataset(folder_config(photo_folder(tmp_path)), RGB16)
    err = capsys.readouterr().err
    assert "decoding imagefolder train: 18/18 images" in err and "/s, done" in err


def truncated_jpeg(path: Path) -> None:
    pixels = np.random.default_rng(2).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    path.write_bytes(path.read_bytes()[:300])


def bomb_png(path: Path, width: int = 20_000, height: int = 20_000) -> None:
    """A PNG header claiming 400 megapixels (over twice PIL's default limit): never decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def test_corrupt_images_are_named_and_refused_or_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = photo_folder(tmp_path)
    truncated_jpeg(root / "train" / "class1" / "0.jpg")
    (root / "train" / "class2" / "junk.png").write_bytes(os.urandom(500))
    bomb_png(root / "val" / "class0" / "huge.png")
    with pytest.raises(SpaceError) as error:
        load_dataset(folder_config(root), RGB16)
    message = str(error.value)
    assert message.startswith("data: 3 unreadable files: ") and "\n" not in message
    assert "class1/0.jpg (OSError: Truncated File Read)" in message
    assert "junk.png (UnidentifiedImageError" in message
    assert "huge.png (DecompressionBombError" in message and "data.on_corrupt: skip" in message
    skipped = load_dataset(folder_config(root, on_corrupt="skip"), RGB16)
    assert not skipped.decoded  # the same cache: on_corrupt only decides what to do with it
    assert (len(skipped.train), len(skipped.val)) == (17, 18)
    assert "data: skipping 3 unreadable files" in capsys.readouterr().err


def test_a_damaged_cifar_batch_is_named_and_skippable(tmp_path: Path) -> None:
    root = write_cifar(tmp_path)
    batch = root / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(pickle.dumps({"data": [1, 2]})[:-4] + os.urandom(64))
    config = {"name": "cifar10", "root": str(root), "validation": "test"}
    with pytest.raises(SpaceError, match=r"1 unreadable file: .*data_batch_3 \("):
        load_dataset(DataConfig(**config), InputSpec(3, 32, 10))
    data = load_dataset(DataConfig(**config, on_corrupt="skip"), InputSpec(3, 32, 10))
    assert len(data.train) == 4 * 20  # the other four batches


def test_a_damaged_idx_file_is_refused_by_name(tmp_path: Path) -> None:
    from tests.evaluators.conftest import write_idx

    write_idx(tmp_path, "MNIST")
    images = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(SpaceError, match=r"train-images-idx3-ubyte or its labels file is damaged"):
        load_dataset(DataConfig(name="mnist", root=str(tmp_path)), InputSpec(1, 28, 10))


DECODE_ONCE = """
import sys
from evaluators.config import DataConfig
from evaluators.datasets import load_dataset
from tests.evaluators.conftest import InputSpec
data = load_dataset(DataConfig(name="imagefolder", root=sys.argv[1], resize=True),
                    InputSpec(3, 16, 3))
print(int(data.decoded), data.cache, len(data.train))
"""


@pytest.mark.slow
def test_two_processes_starting_together_decode_once(tmp_path: Path) -> None:
    root = photo_folder(tmp_path / "photos", per_class=400)  # long enough to overlap
    env = {**os.environ, "NAS_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", DECODE_ONCE, str(root)]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [run.communicate(timeout=600)[0].split() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert sorted(int(out[0]) for out in outputs) == [0, 1]  # one decoded, one reused
    assert outputs[0][1:] == outputs[1][1:] and outputs[0][2] == "1200"
    folders = [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].startswith("imagefolder-")


def test_statistics_measured_while_decoding_match_the_decoded_pixels(tmp_path: Path) -> None:
    data = load_dataset(folder_config(photo_folder(tmp_path), in_memory=True), RGB16)
    mean, std = channel_stats(data.train.images)  # float64 sums over the loaded tensor
    assert data.mean == pytest.approx(mean, abs=1e-9) and data.std == pytest.approx(std, abs=1e-9)
    assert 0.3 < mean[0] < 0.7  # random pixels: a plausible value, not an empty sum
