"""Datasets by name: mnist5k (the offline default), mnist, fashion_mnist, cifar10/100, imagefolder.

``load_dataset(config, expected_input)`` returns the train and validation splits as
uint8 tensors with their normalization constants, after checking them against the
architecture's ``input`` (channels, resolution, classes). A mismatch is a
``SpaceError`` naming the fix; images are resized or their channels converted only
when ``data.resize`` / ``data.convert_channels`` ask for it.

Validation: with ``validation: split`` (the default) a seeded share of the training
images is held out and the official test split is never touched, so a search cannot
overfit it; ``validation: test`` scores on the test split instead (imagefolder always
uses its ``val/`` folder).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from evaluators.config import DataConfig
from evaluators.datasets import imagefolder, mnist5k, torchvision_sets
from evaluators.datasets.base import (
    Dataset,
    DatasetInfo,
    RawData,
    Split,
    channel_stats,
    seeded_order,
    seeded_split,
)
from search_space.errors import SpaceError, did_you_mean, one_of

__all__ = ["Dataset", "DatasetInfo", "Split", "dataset_info", "list_datasets", "load_dataset"]

DEFAULT_ROOT = "~/.cache/nas/datasets"

_INFOS: dict[str, DatasetInfo] = {
    "mnist5k": mnist5k.INFO,
    **torchvision_sets.INFOS,
    # Statistics are measured on the training images at load time.
    "imagefolder": DatasetInfo("imagefolder", (), (), "natural", 0.0),
}


def list_datasets() -> list[str]:
    return sorted(_INFOS)


def dataset_info(name: str) -> DatasetInfo:
    """The constants of a dataset; an unknown name is a SpaceError with a suggestion."""
    if name not in _INFOS:
        raise SpaceError(
            f"data.name: unknown dataset {name!r}{did_you_mean(name, _INFOS)}; "
            f"choose {one_of(list_datasets())}"
        )
    return _INFOS[name]


def load_dataset(config: DataConfig, expected_input: Any = None) -> Dataset:
    """Reads, splits and checks a dataset against `expected_input` (``arch.input``) when given.

    `expected_input` has ``channels``, ``resolution`` (int or (H, W)) and ``classes``.
    """
    info = dataset_info(config.name)
    root = Path(config.root or DEFAULT_ROOT).expanduser()
    wanted = _resolution(expected_input)
    folder_size = wanted[0] if wanted and config.resize and config.name == "imagefolder" else None
    raw = _read(config, root, folder_size)
    train, val = _splits(config, info, raw)
    train, val, converted = _adapt(config, info, train, val, expected_input)
    if expected_input is not None and raw.classes > expected_input.classes:
        raise SpaceError(
            f"data: {config.name} has {raw.classes} classes but the architecture's "
            f"input.classes is {expected_input.classes}; set input.classes: {raw.classes}"
        )
    mean, std = (
        (info.mean, info.std) if info.mean and not converted else channel_stats(train.images)
    )
    return Dataset(
        name=config.name,
        train=train,
        val=val,
        classes=raw.classes,
        mean=mean,
        std=std,
        augmentation=info.augmentation if config.augment else None,
    )


def _read(config: DataConfig, root: Path, folder_size: int | None) -> RawData:
    name = config.name
    if name == "mnist5k":
        return mnist5k.read()
    if name in ("cifar10", "cifar100"):
        return torchvision_sets.read_cifar(name, root, config.download)
    if name in ("mnist", "fashion_mnist"):
        return torchvision_sets.read_idx(name, root, config.download)
    return imagefolder.read(root, folder_size, config.num_workers, config.limit, config.split_seed)


def _splits(config: DataConfig, info: DatasetInfo, raw: RawData) -> tuple[Split, Split]:
    if config.name == "imagefolder":
        assert raw.test is not None
        return _limited(raw.train, config), _limited(raw.test, config)
    if config.validation == "test":
        if raw.test is None:
            raise SpaceError(
                f"data.validation: {config.name} has no test split; use validation: split"
            )
        return _limited(raw.train, config), _limited(raw.test, config)
    fraction = config.val_fraction if config.val_fraction is not None else info.val_fraction
    return seeded_split(raw.train, fraction, config.split_seed, config.limit)


def _limited(split: Split, config: DataConfig) -> Split:
    if config.limit is None or config.limit >= len(split):
        return split
    return split.take(seeded_order(len(split), config.split_seed, config.limit))


def _adapt(
    config: DataConfig, info: DatasetInfo, train: Split, val: Split, expected: Any
) -> tuple[Split, Split, bool]:
    """Meets the architecture's channels and resolution, or explains how to."""
    if expected is None:
        return train, val, False
    channels, converted = train.images.shape[1], False
    if channels != expected.channels:
        if not config.convert_channels:
            raise SpaceError(
                f"data: {config.name} images have {_plural(channels, 'channel')} but the "
                f"architecture's input.channels is {expected.channels}; "
                f"set input.channels: {channels}, or data.convert_channels: true"
            )
        train, val = (_convert_channels(s, expected.channels) for s in (train, val))
        converted = True
    size, wanted = tuple(train.images.shape[2:]), _resolution(expected)
    if size != wanted:
        if not config.resize:
            raise SpaceError(
                f"data: {config.name} images are {size[0]}x{size[1]} but the architecture's "
                f"input.resolution is {wanted[0]}x{wanted[1]}; set input.resolution: {size[0]}, "
                "or data.resize: true"
            )
        train, val = (_resize(s, wanted) for s in (train, val))
    return train, val, converted


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _resolution(expected: Any) -> tuple[int, int] | None:
    if expected is None:
        return None
    resolution = expected.resolution
    return (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)


def _convert_channels(split: Split, channels: int) -> Split:
    images = split.images
    if images.shape[1] == 1:  # gray -> RGB: repeat
        return replace(split, images=images.expand(-1, channels, -1, -1).contiguous())
    if channels == 1:  # RGB -> gray: ITU-R 601 luma
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        gray = (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255)
        return replace(split, images=gray.to(torch.uint8))
    raise SpaceError(f"data.convert_channels: cannot map {images.shape[1]} channels to {channels}")


def _resize(split: Split, size: tuple[int, int], chunk: int = 2048) -> Split:
    """Bilinear (antialiased when shrinking) resize of uint8 images, in chunks."""
    parts = []
    for start in range(0, len(split), chunk):
        block = split.images[start : start + chunk].float()
        block = F.interpolate(
            block, size=size, mode="bilinear", antialias=True, align_corners=False
        )
        parts.append(block.round().clamp(0, 255).to(torch.uint8))
    return replace(split, images=torch.cat(parts))
