"""Image datasets: uint8 images, a seeded split, per-dataset constants, batch iterators.

Conventions: images are uint8 (N, C, H, W) and labels int64 (N,). The images of a
split are a tensor in memory, or a ``DiskImages`` (``disk.py``) reading them from the
machine's dataset cache a batch at a time; both index the same way
(``images[index_tensor]`` and ``images[a:b]`` give a uint8 tensor). They are converted
to float, augmented and normalized a batch at a time (see ``augment.py``), which
avoids per-sample PIL work on a 2-core machine. The train/val
split is a seeded permutation: disjoint by construction, identical for a given
``split_seed`` whatever the training seed, so every trial is scored on the same images.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from evaluators.datasets.batches import index_batches, read_batches
from evaluators.datasets.disk import DiskImages
from search_space.errors import SpaceError


@dataclass(frozen=True)
class Split:
    """Images (N, C, H, W) uint8 and labels (N,) int64 of one split."""

    images: torch.Tensor | DiskImages
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
        """The images at `indices`: a copy in memory, or a view of the same file on disk."""
        if isinstance(self.images, DiskImages):
            return Split(self.images.subset(indices), self.labels[indices])
        return Split(self.images[indices], self.labels[indices])

    @property
    def on_disk(self) -> bool:
        return isinstance(self.images, DiskImages)


@dataclass(frozen=True)
class RawData:
    """What a dataset reader returns: its train split and, when it has one, its test split."""

    train: Split
    test: Split | None
    classes: int
    # A group per training image (int64 (N,)); when given, the validation and test shares
    # are drawn within each group (a stratified split), so every group keeps its share.
    strata: torch.Tensor | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """Per-dataset constants."""

    name: str
    mean: tuple[float, ...]  # per channel, of pixel / 255, on the training images
    std: tuple[float, ...]
    augmentation: str  # "digits" (pad-2 crop) or "natural" (pad-4 crop + flip), see augment.py
    val_fraction: float  # default share of train held out for validation
    # Default share of train held out as a test split when the dataset has no test split
    # of its own (see DataConfig.test_fraction): mnist5k's 0.2; 0 keeps none.
    test_fraction: float = 0.0


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
    workers: int = 0  # threads reading batches ahead (data.num_workers)
    cache: Path | None = None  # the cache folder the images come from, when cached
    decoded: bool = False  # True when this process decoded the dataset into the cache
    # Images neither trained on nor used for selection (DataConfig.test_fraction);
    # None when the data keeps none.
    test: Split | None = None

    def train_batches(
        self, batch_size: int, generator: torch.Generator, *, pin_memory: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled training batches (uint8 images, labels), read ahead.

        The order is ``torch.randperm(len(train), generator=generator)`` cut into
        batches of `batch_size` (a last partial batch is dropped when there is a full
        one), each batch's images in that order. The permutation is drawn before this
        returns, so `generator` may be used for augmentation after. With `pin_memory`
        the batches come in page-locked memory, ready for a non-blocking GPU copy.
        """
        batch_size = min(batch_size, len(self.train))
        order = torch.randperm(len(self.train), generator=generator)
        indices = index_batches(order, batch_size, drop_last=True)
        return read_batches(self.train.images, self.train.labels, indices, self.workers, pin_memory)

    def val_batches(
        self, batch_size: int, *, pin_memory: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The validation split in order, in batches of `batch_size` (the last may be short)."""
        indices = index_batches(torch.arange(len(self.val)), batch_size, drop_last=False)
        return read_batches(self.val.images, self.val.labels, indices, self.workers, pin_memory)

    @property
    def channels(self) -> int:
        return self.train.images.shape[1]

    @property
    def resolution(self) -> tuple[int, int]:
        return (self.train.images.shape[2], self.train.images.shape[3])


def seeded_split(
    data: Split,
    val_fraction: float,
    seed: int,
    limit: int | None,
    test_fraction: float = 0.0,
    strata: torch.Tensor | None = None,
) -> tuple[Split, Split, Split | None]:
    """Disjoint (train, val, test) from one seeded permutation; `limit` caps the pool first.

    Validation takes the permutation's first share, test the next, train the rest: the
    validation images are the same with or without a test split (only train shrinks).
    With `strata` (a group per image) the shares are taken within each group instead
    (``stratified_order``), so a rare class keeps its share in every split.
    """
    if strata is not None:
        return _stratified(data, val_fraction, seed, limit, test_fraction, strata)
    order = seeded_order(len(data), seed, limit)
    n_val = max(1, round(len(order) * val_fraction))
    n_test = round(len(order) * test_fraction) if test_fraction > 0 else 0
    if n_val + n_test >= len(order):
        raise SpaceError(
            f"data.val_fraction: {val_fraction} (and test_fraction {test_fraction}) of "
            f"{len(order)} images leaves nothing to train on; lower them or raise data.limit"
        )
    test = data.take(order[n_val : n_val + n_test]) if n_test else None
    return data.take(order[n_val + n_test :]), data.take(order[:n_val]), test


def _stratified(
    data: Split,
    val_fraction: float,
    seed: int,
    limit: int | None,
    test_fraction: float,
    strata: torch.Tensor,
) -> tuple[Split, Split, Split | None]:
    pool = seeded_order(len(data), seed, limit)
    parts = stratified_order(strata[pool], (val_fraction, test_fraction), seed)
    val, test, train = (pool[part].sort().values for part in parts)
    if len(val) == 0 or len(train) == 0:
        raise SpaceError(
            f"data.val_fraction: {val_fraction} (and test_fraction {test_fraction}) of "
            f"{len(pool)} images leaves a split empty; change them or raise data.limit"
        )
    return data.take(train), data.take(val), (data.take(test) if len(test) else None)


def stratified_order(
    strata: torch.Tensor, fractions: tuple[float, ...], seed: int
) -> list[torch.Tensor]:
    """Positions 0..N-1 cut into len(fractions) + 1 disjoint parts, sorted, each taking
    round(n * fraction) of the n members of every stratum (the last part takes the rest).

    Each stratum is shuffled by its own seeded permutation, so the parts are the same for
    a given seed however the other strata are made up.
    """
    parts: list[list[torch.Tensor]] = [[] for _ in range(len(fractions) + 1)]
    for group in torch.unique(strata).tolist():
        members = (strata == group).nonzero().flatten()
        members = members[seeded_order(len(members), seed * 1_000_003 + group)]
        start = 0
        for index, fraction in enumerate(fractions):
            count = round(len(members) * fraction)
            parts[index].append(members[start : start + count])
            start += count
        parts[-1].append(members[start:])
    return [torch.cat(part).sort().values for part in parts]


def seeded_order(size: int, seed: int, limit: int | None = None) -> torch.Tensor:
    """The first `limit` indices (all when None) of a seeded permutation of range(size)."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(size, generator=generator)
    return order if limit is None else order[:limit]


def channel_stats(
    images: torch.Tensor | DiskImages, chunk: int = 4096
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images (N, C, H, W), in units of pixel / 255."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for start in range(0, len(images), chunk):
        block = images[start : start + chunk].to(torch.float64) / 255.0
        total += block.sum(dim=(0, 2, 3))
        squares += block.square().sum(dim=(0, 2, 3))
    count = len(images) * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(1e-12).sqrt()
    return tuple(mean.tolist()), tuple(std.tolist())
