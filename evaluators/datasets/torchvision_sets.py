"""CIFAR-10/100, MNIST and Fashion-MNIST from a local root, in torchvision's on-disk layout.

Layout (what ``torchvision.datasets.X(root, download=True)`` leaves behind):
``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch}``,
``<root>/cifar-100-python/{train, test}``, and ``<root>/MNIST/raw/`` or
``<root>/FashionMNIST/raw/`` with ``{train,t10k}-{images-idx3,labels-idx1}-ubyte``
(optionally ``.gz``). The files are read directly into uint8 tensors (no per-image
PIL objects, no checksum pass over a dataset that is already there); torchvision is
used to download when ``data.download`` is true, and for the idx format. CIFAR
batches are pickles: they are read with an unpickler that only builds numpy arrays,
lists and dicts, so a tampered file cannot run code.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from evaluators.datasets.base import DatasetInfo, RawData, Split
from search_space.errors import SpaceError

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


def read_cifar(name: str, root: Path, download: bool) -> RawData:
    folder, train_files, test_files, label_key, classes, tv_class = _CIFAR[name]
    base = root / folder
    if not all((base / f).is_file() for f in train_files + test_files):
        _fetch_or_fail(name, tv_class, root, download, base / train_files[0], folder)
    return RawData(
        train=_cifar_split([base / f for f in train_files], label_key),
        test=_cifar_split([base / f for f in test_files], label_key),
        classes=classes,
    )


def read_idx(name: str, root: Path, download: bool) -> RawData:
    raw = root / _IDX[name] / "raw"
    files = [
        f"{p}-{k}" for p in ("train", "t10k") for k in ("images-idx3-ubyte", "labels-idx1-ubyte")
    ]
    if not all(_idx_path(raw / f) for f in files):
        _fetch_or_fail(name, _IDX[name], root, download, raw / files[0], f"{_IDX[name]}/raw")
    return RawData(train=_idx_split(raw, "train"), test=_idx_split(raw, "t10k"), classes=10)


def _cifar_split(paths: list[Path], label_key: str) -> Split:
    images, labels = [], []
    for path in paths:
        with path.open("rb") as file:
            entry = _ArrayUnpickler(file, encoding="latin1").load()
        images.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.extend(entry[label_key])
    return Split(torch.from_numpy(np.concatenate(images)), torch.tensor(labels, dtype=torch.int64))


def _idx_split(raw: Path, prefix: str) -> Split:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images = read_image_file(str(_idx_path(raw / f"{prefix}-images-idx3-ubyte")))
    labels = read_label_file(str(_idx_path(raw / f"{prefix}-labels-idx1-ubyte")))
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
