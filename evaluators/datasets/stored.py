"""Splits in a cache folder: ``<part>_images.npy`` (N, C, H, W) uint8, ``<part>_labels.npy``.

A label of -1 marks a row whose source was unreadable (a corrupt image, a damaged
batch file): the row stays in the array, so decoding never has to compact it, and
opening the split leaves it out. The file names of those rows are in
``meta.json`` under ``corrupt``, and ``check_corrupt`` refuses or reports them as
``data.on_corrupt`` says.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.datasets.base import Split
from evaluators.datasets.disk import DiskImages
from search_space.errors import SpaceError

IN_MEMORY_BYTES = 1 << 30  # with data.in_memory unset, a cache this small is loaded whole
SHOWN = 5  # corrupt files named in a message


def new_array(folder: Path, part: str, shape: tuple[int, ...]) -> Path:
    """Creates the zero-filled (sparse) uint8 image array of `part`; returns its path."""
    path = folder / f"{part}_images.npy"
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
    del array  # flushed and closed: writers reopen it by path
    return path


def save_labels(folder: Path, part: str, labels: np.ndarray) -> None:
    np.save(folder / f"{part}_labels.npy", labels.astype(np.int64))


def cache_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("*_images.npy"))


def open_split(folder: Path, part: str, in_memory: bool) -> Split:
    """The readable rows of `part`, read from disk per batch, or loaded whole when `in_memory`."""
    labels = torch.from_numpy(np.load(folder / f"{part}_labels.npy"))
    images = DiskImages(folder / f"{part}_images.npy")
    valid = (labels >= 0).nonzero().flatten()
    if len(valid) < len(labels):
        images, labels = images.subset(valid), labels[valid]
    return Split(images.load() if in_memory else images, labels)


def check_corrupt(meta: dict[str, Any], on_corrupt: str) -> None:
    """Refuses (``on_corrupt: error``) or reports (``skip``) the unreadable source files."""
    corrupt = meta.get("corrupt", [])
    if not corrupt:
        return
    shown = "; ".join(f"{path} ({why})" for path, why in corrupt[:SHOWN])
    more = f" and {len(corrupt) - SHOWN} more" if len(corrupt) > SHOWN else ""
    count = f"{len(corrupt)} unreadable file" + ("" if len(corrupt) == 1 else "s")
    if on_corrupt == "error":
        raise SpaceError(
            f"data: {count}: {shown}{more}; fix or remove them, or set data.on_corrupt: skip "
            "to train without them"
        )
    print(f"data: skipping {count}: {shown}{more}", file=sys.stderr)
