"""In-memory image datasets: uint8 tensors, a seeded split, and per-dataset constants.

Conventions: images are kept as uint8 tensors (N, C, H, W) and labels as int64 (N,);
they are converted to float, augmented and normalized a batch at a time (see
``augment.py``), which avoids per-sample PIL work on a 2-core machine. The train/val
split is a seeded permutation: disjoint by construction, identical for a given
``split_seed`` whatever the training seed, so every trial is scored on the same images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from search_space.errors import SpaceError


@dataclass(frozen=True)
class Split:
    """Images (N, C, H, W) uint8 and labels (N,) int64 of one split."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            shape = tuple(self.images.shape)
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {shape}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: torch.Tensor) -> Split:
        return Split(self.images[indices], self.labels[indices])


@dataclass(frozen=True)
class RawData:
    """What a dataset reader returns: its train split and, when it has one, its test split."""

    train: Split
    test: Split | None
    classes: int


@dataclass(frozen=True)
class DatasetInfo:
    """Per-dataset constants."""

    name: str
    mean: tuple[float, ...]  # per channel, of pixel / 255, on the training images
    std: tuple[float, ...]
    augmentation: str  # "digits" (pad-2 crop) or "natural" (pad-4 crop + flip), see augment.py
    val_fraction: float  # default share of train held out for validation


@dataclass(frozen=True)
class Dataset:
    """Train and validation splits ready for training, with their normalization."""

    name: str
    train: Split
    val: Split
    classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augmentation: str | None  # None when augmentation is switched off

    @property
    def channels(self) -> int:
        return self.train.images.shape[1]

    @property
    def resolution(self) -> tuple[int, int]:
        return (self.train.images.shape[2], self.train.images.shape[3])


def seeded_split(
    data: Split, val_fraction: float, seed: int, limit: int | None
) -> tuple[Split, Split]:
    """Disjoint (train, val) from one seeded permutation; `limit` caps the pool first."""
    order = seeded_order(len(data), seed, limit)
    n_val = max(1, round(len(order) * val_fraction))
    if n_val >= len(order):
        raise SpaceError(
            f"data.val_fraction: {val_fraction} of {len(order)} images leaves nothing to "
            "train on; lower it or raise data.limit"
        )
    return data.take(order[n_val:]), data.take(order[:n_val])


def seeded_order(size: int, seed: int, limit: int | None = None) -> torch.Tensor:
    """The first `limit` indices (all when None) of a seeded permutation of range(size)."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(size, generator=generator)
    return order if limit is None else order[:limit]


def channel_stats(
    images: torch.Tensor, chunk: int = 4096
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images (N, C, H, W), in units of pixel / 255."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for start in range(0, len(images), chunk):
        block = images[start : start + chunk].to(torch.float64) / 255.0
        total += block.sum(dim=(0, 2, 3))
        squares += block.square().sum(dim=(0, 2, 3))
    count = images.numel() / images.shape[1]
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(1e-12).sqrt()
    return tuple(mean.tolist()), tuple(std.tolist())
