"""CIFAR-10/100, MNIST and Fashion-MNIST from a local root, in torchvision's on-disk layout.

Layout (what ``torchvision.datasets.X(root, download=True)`` leaves behind):
``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch}``,
``<root>/cifar-100-python/{train, test}``, and ``<root>/MNIST/raw/`` or
``<root>/FashionMNIST/raw/`` with ``{train,t10k}-{images-idx3,labels-idx1}-ubyte``
(optionally ``.gz``). The files are read directly into uint8 tensors (no per-image
PIL objects, no checksum pass over a dataset that is already there); torchvision is
used to download when ``data.download`` is true, and for the idx format. CIFAR
batches are pickles: they are read with an unpickler that only builds numpy arrays,
lists and dicts, so a tampered file cannot run code. A damaged CIFAR batch is
reported by path (and left out with ``data.on_corrupt: skip``); a damaged idx file
is always refused, since its images and labels live in separate files.

``open_cached`` stores the images at the search's shape in the dataset cache
(``cache.py``), so a resized CIFAR is converted once per machine, not once per trial.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.config import DataConfig
from evaluators.datasets import cache, stored
from evaluators.datasets.base import DatasetInfo, RawData, Split, channel_stats
from evaluators.datasets.disk import DiskImages
from evaluators.datasets.target import Target, adapt_images, plan_target
from search_space.errors import SpaceError

_NATIVE = {"cifar10": (3, 32), "cifar100": (3, 32), "mnist": (1, 28), "fashion_mnist": (1, 28)}
CHUNK = 2048  # images converted at a time while storing
INFOS = {
    "cifar10": DatasetInfo(
        "cifar10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "natural", 0.1
    ),
    "cifar100": DatasetInfo(
        "cifar100", (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762), "natural", 0.1
    ),
    "mnist": DatasetInfo("mnist", (0.1307,), (0.3081,), "digits", 0.1),
    "fashion_mnist": DatasetInfo("fashion_mnist", (0.2860,), (0.3530,), "digits", 0.1),
}

_CIFAR = {  # name -> (folder, train files, test files, label key, classes, torchvision class)
    "cifar10": (
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
        "labels",
        10,
        "CIFAR10",
    ),
    "cifar100": ("cifar-100-python", ["train"], ["test"], "fine_labels", 100, "CIFAR100"),
}
_IDX = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}  # name -> folder and class


def open_cached(name: str, root: Path, config: DataConfig, expected: Any) -> cache.CacheEntry:
    """The cache entry of dataset `name` at the search's shape, stored when missing."""
    sources = source_files(name, root, config.download)
    channels, side = _NATIVE[name]
    target = plan_target(config, channels, (side, side), expected)
    key = {
        "dataset": name,
        "root": str(root.resolve()),
        "files": cache.fingerprint(sources, root),
        "shape": [target.channels, *target.size],
    }

    def build(folder: Path) -> dict[str, Any]:
        return _store(folder, name, root, target)

    return cache.open_or_build(cache.cache_root(config.cache_dir), name, key, build)


def source_files(name: str, root: Path, download: bool) -> list[Path]:
    """The dataset's files under `root`, downloaded first when missing and allowed."""
    if name in _CIFAR:
        folder, train_files, test_files, _, _, tv_class = _CIFAR[name]
        paths = [root / folder / f for f in train_files + test_files]
        if not all(p.is_file() for p in paths):
            _fetch_or_fail(name, tv_class, root, download, paths[0], folder)
        return paths
    raw = root / _IDX[name] / "raw"
    names = [
        f"{p}-{k}" for p in ("train", "t10k") for k in ("images-idx3-ubyte", "labels-idx1-ubyte")
    ]
    if not all(_idx_path(raw / f) for f in names):
        _fetch_or_fail(name, _IDX[name], root, download, raw / names[0], f"{_IDX[name]}/raw")
    return [_idx_path(raw / f) for f in names]


def _store(folder: Path, name: str, root: Path, target: Target) -> dict[str, Any]:
    raw, corrupt = read_cifar(name, root) if name in _CIFAR else (read_idx(name, root), [])
    for part, split in (("train", raw.train), ("test", raw.test)):
        shape = (len(split), target.channels, *target.size)
        out = np.load(stored.new_array(folder, part, shape), mmap_mode="r+")
        for start in range(0, len(split), CHUNK):
            block = adapt_images(split.images[start : start + CHUNK], target)
            out[start : start + len(block)] = block.numpy()
        out.flush()
        stored.save_labels(folder, part, split.labels.numpy())
    meta: dict[str, Any] = {"classes": raw.classes, "corrupt": corrupt}
    if target.converted:  # the published statistics are for the original channels
        meta["mean"], meta["std"] = channel_stats(DiskImages(folder / "train_images.npy"))
    return meta


def read_cifar(name: str, root: Path) -> tuple[RawData, list[list[str]]]:
    """The batches in memory, and [path, why] of each damaged batch (left out)."""
    folder, train_files, test_files, label_key, classes, _ = _CIFAR[name]
    base, corrupt = root / folder, []
    train = _cifar_split([base / f for f in train_files], label_key, corrupt)
    test = _cifar_split([base / f for f in test_files], label_key, corrupt)
    return RawData(train=train, test=test, classes=classes), corrupt


def read_idx(name: str, root: Path) -> RawData:
    raw = root / _IDX[name] / "raw"
    return RawData(train=_idx_split(raw, "train"), test=_idx_split(raw, "t10k"), classes=10)


def _cifar_split(paths: list[Path], label_key: str, corrupt: list[list[str]]) -> Split:
    images, labels = [], []
    for path in paths:
        try:
            with path.open("rb") as file:
                entry = _ArrayUnpickler(file, encoding="latin1").load()
            batch = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            batch_labels = [int(v) for v in entry[label_key]]
            if len(batch_labels) != len(batch):
                raise ValueError(f"{len(batch)} images but {len(batch_labels)} labels")
        except Exception as error:  # garbage, truncation, wrong keys: the file is damaged
            corrupt.append([str(path), f"{type(error).__name__}: {error}"])
            continue
        images.append(batch)
        labels.extend(batch_labels)
    if not images:
        images.append(np.zeros((0, 3, 32, 32), dtype=np.uint8))
    return Split(torch.from_numpy(np.concatenate(images)), torch.tensor(labels, dtype=torch.int64))


def _idx_split(raw: Path, prefix: str) -> Split:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    paths = [_idx_path(raw / f"{prefix}-{kind}-ubyte") for kind in ("images-idx3", "labels-idx1")]
    try:
        images, labels = read_image_file(str(paths[0])), read_label_file(str(paths[1]))
        if images.dim() != 3 or len(images) != len(labels):
            raise ValueError(f"{tuple(images.shape)} images for {len(labels)} labels")
    except Exception as error:  # torchvision asserts on a bad header, fails on short data
        raise SpaceError(
            f"data: {paths[0]} or its labels file is damaged ({type(error).__name__}: "
            f"{error}); delete {raw} and download it again (data.download: true)"
        ) from error
    return Split(images.unsqueeze(1).contiguous(), labels.long())  # (N, 28, 28) -> (N, 1, 28, 28)


def _idx_path(path: Path) -> Path | None:
    """The idx file, or its .gz as downloaded, whichever exists."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _fetch_or_fail(
    name: str, tv_class: str, root: Path, download: bool, probe: Path, folder: str
) -> None:
    if not download:
        raise SpaceError(
            f"data: {name} not found: {probe} does not exist; set data.root to the folder "
            f"that holds {folder}/ (--data-root), or set data.download: true (--download)"
        )
    import torchvision.datasets

    root.mkdir(parents=True, exist_ok=True)
    try:
        getattr(torchvision.datasets, tv_class)(str(root), train=True, download=True)
    except Exception as error:  # network or disk problems: the user's to fix
        raise SpaceError(f"data: downloading {name} into {root} failed: {error}") from error


class _ArrayUnpickler(pickle.Unpickler):
    """Builds only what the CIFAR pickles contain: numpy arrays, lists, dicts, strings."""

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")
        return super().find_class(module, name)
