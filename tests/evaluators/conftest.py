"""Fake datasets written in each dataset's real on-disk format, and tiny models."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn


def _images(count: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, *shape), dtype=np.uint8)


def write_cifar(root: Path, hundred: bool = False, per_file: int = 20) -> Path:
    """cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta} or cifar-100-python/."""
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir(parents=True)
    files = (
        ["train", "test"] if hundred else [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
    )
    key, classes = ("fine_labels", 100) if hundred else ("labels", 10)
    for seed, name in enumerate(files):
        count = per_file * (5 if hundred and name == "train" else 1)
        entry = {
            "batch_label": name,
            "data": _images(count, (3072,), seed),  # rows: 1024 R, 1024 G, 1024 B
            key: [int(v) for v in np.arange(count) % classes],
            "filenames": [f"{name}_{i}.png" for i in range(count)],
        }
        if hundred:
            entry["coarse_labels"] = [0] * count
        with (folder / name).open("wb") as file:
            pickle.dump(entry, file, protocol=2)
    meta = (
        {"fine_label_names": [str(i) for i in range(100)]}
        if hundred
        else {"label_names": [str(i) for i in range(10)]}
    )
    with (folder / ("meta" if hundred else "batches.meta")).open("wb") as file:
        pickle.dump(meta, file, protocol=2)
    return root


def write_idx(root: Path, folder: str, train: int = 60, test: int = 20) -> Path:
    """<root>/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (big-endian idx)."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for seed, (prefix, count) in enumerate((("train", train), ("t10k", test))):
        images = _images(count, (28, 28), seed)
        labels = (np.arange(count) % 10).astype(np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x0803, count, 28, 28) + images.tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x0801, count) + labels.tobytes()
        )
    return root


def write_imagefolder(
    root: Path, classes=("cat", "dog"), per_class: int = 4, size=(12, 12)
) -> Path:
    """<root>/train/<class>/*.png and <root>/val/<class>/*.png."""
    from PIL import Image

    for part in ("train", "val"):
        for index, name in enumerate(classes):
            folder = root / part / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                pixels = np.full((*size, 3), 40 * index + i, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


ELPV_PROBABILITIES = ("0.0", "0.3333333333333333", "0.6666666666666666", "1.0")


def write_elpv(folder: Path, per_group: int = 10) -> Path:
    """The elpv-dataset package's data/ folder: labels.csv ("images/cellNNNN.png",
    probability, mono|poly, space-padded as in the package) and images/*.png, 8-bit gray
    300x300. Image i is filled with the value i (so a test can tell which image it holds),
    and its row is in group (i // 2) % 8: probability index = group // 2, type = group % 2."""
    from PIL import Image

    (folder / "images").mkdir(parents=True)
    lines = []
    for i in range(8 * per_group):
        group = (i // 2) % 8
        probability, cell_type = ELPV_PROBABILITIES[group // 2], ("mono", "poly")[group % 2]
        name = f"images/cell{i + 1:04d}.png"
        Image.fromarray(np.full((300, 300), i, dtype=np.uint8), mode="L").save(folder / name)
        lines.append(f"{name}  {probability:<20}{cell_type}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(autouse=True)
def _private_dataset_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """Each test decodes into its own cache folder, never the user's ~/.cache/nas-vision."""
    folder = tmp_path_factory.mktemp("dataset-cache")
    monkeypatch.setenv("NAS_CACHE", str(folder))
    return folder


@pytest.fixture
def cifar10_root(tmp_path: Path) -> Path:
    return write_cifar(tmp_path)


@pytest.fixture
def cifar100_root(tmp_path: Path) -> Path:
    return write_cifar(tmp_path, hundred=True)


@pytest.fixture
def imagefolder_root(tmp_path: Path) -> Path:
    return write_imagefolder(tmp_path)


class InputSpec:
    """Stands in for an architecture's ``input``."""

    def __init__(self, channels: int, resolution: int, classes: int):
        self.channels, self.resolution, self.classes = channels, resolution, classes


def tiny_convnet(channels: int = 1, classes: int = 10, width: int = 8, seed: int = 0) -> nn.Module:
    """Two strided convs and a linear layer on the 7x7 map: learns digits in one short epoch."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * width * 7 * 7, classes),
    )
