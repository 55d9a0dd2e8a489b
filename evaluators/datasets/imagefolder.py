"""imagefolder: your own images, ``<root>/train/<class>/*`` and ``<root>/val/<class>/*``.

The class names are the sub-folders of ``train/`` (sorted, as torchvision's
ImageFolder does); ``val/`` is the validation split as given (``val_fraction`` is not
used). The files are decoded once per machine, on parallel worker processes, into the
dataset cache (``cache.py``) at the search's resolution, and every trial reads that.
Images must all have one size unless ``data.resize`` is set, which resizes the short
side to the architecture's resolution and center-crops a square. Normalization
constants are measured on the training images while decoding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.config import DataConfig
from evaluators.datasets import cache, decode, stored
from evaluators.datasets.base import seeded_order
from evaluators.datasets.target import Target, plan_target, resolution_of
from search_space.errors import SpaceError

# torchvision's IMG_EXTENSIONS, so a folder reads the same as with its ImageFolder
EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
RESIZE_METHOD = "pil-bilinear-short-side-center-crop-draft"  # part of the cache key


def open_cached(root: Path, config: DataConfig, expected: Any) -> cache.CacheEntry:
    """The cache entry of the folder at `root` for this search, decoding it when missing."""
    classes, listings = list_folder(root, config)
    _check_classes(root, classes, expected)
    parts = {part: (listing.files, listing.labels) for part, listing in listings.items()}
    target = _target(config, parts["train"][0], expected)
    resolution = target.size[0] if config.resize and expected is not None else None
    key = {
        "dataset": "imagefolder",
        "root": str(root.resolve()),
        "files": cache.fingerprint_stats(
            entry for part in ("train", "val") for entry in listings[part].stats
        ),
        "shape": [target.channels, *target.size],
        "resize": RESIZE_METHOD if resolution else None,
        "subset": [config.limit, config.split_seed] if config.limit else None,
    }

    def build(folder: Path) -> dict[str, Any]:
        return _build(folder, parts, classes, target, resolution)

    return cache.open_or_build(cache.cache_root(config.cache_dir), "imagefolder", key, build)


def _check_classes(root: Path, classes: list[str], expected: Any) -> None:
    """Every class folder of train/ holds images, and there are as many classes as the
    architecture's input.classes: a class without images, or outputs no label can reach,
    would train a model silently unlike the one asked for."""
    empty = [name for name in classes if not _images(root / "train" / name)]
    if empty:
        shown = ", ".join(empty[:5]) + (f" (and {len(empty) - 5} more)" if len(empty) > 5 else "")
        raise SpaceError(
            f"data: {root / 'train'} has class folders without images: {shown}; add images "
            f"(looked for {', '.join(EXTENSIONS)}) or remove the folders"
        )
    wanted = getattr(expected, "classes", None)
    if wanted is not None and len(classes) < wanted:
        raise SpaceError(
            f"data: {root / 'train'} has {len(classes)} class folders but the architecture's "
            f"input.classes is {wanted}; set input.classes: {len(classes)}, or add the "
            "missing classes"
        )


def list_folder(root: Path, config: DataConfig) -> tuple[list[str], dict[str, Listing]]:
    """The class names and the train/val listings of the folder at `root` (absolute),
    without decoding an image; a missing or empty folder is a SpaceError naming it."""
    if not root.is_dir():
        raise SpaceError(
            f"data.root: {root} does not exist; imagefolder needs the folder that holds "
            "train/ and val/ (a relative path in a space file is read from the file's folder)"
        )
    for part in ("train", "val"):
        if not (root / part).is_dir():
            raise SpaceError(
                f"data: imagefolder needs {root / part}/ with one sub-folder per class; "
                "set data.root to the folder that holds train/ and val/"
            )
    classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    if not classes:
        raise SpaceError(f"data: {root / 'train'}/ has no class sub-folders")
    return classes, {part: _listing(root, part, classes, config) for part in ("train", "val")}


@dataclass
class Listing:
    """One split's images: paths, labels, and (path relative to the root, stat) for the
    cache key, all from one os.scandir pass (100,000 files in well under a second)."""

    files: list[str] = field(default_factory=list)  # str: 100,000 Paths cost 2 s to build
    labels: list[int] = field(default_factory=list)
    stats: list[tuple[str, os.stat_result]] = field(default_factory=list)


def _listing(root: Path, part: str, classes: list[str], config: DataConfig) -> Listing:
    folder = root / part
    found = sorted(p.name for p in folder.iterdir() if p.is_dir())
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise SpaceError(f"data: {folder} has classes not in train/: {', '.join(unknown)}")
    listing = Listing()
    for label, name in enumerate(classes):
        if (folder / name).is_dir():
            for entry in _images(folder / name):
                listing.files.append(entry.path)
                listing.labels.append(label)
                listing.stats.append((f"{part}/{name}/{entry.name}", entry.stat()))
    if not listing.files:
        raise SpaceError(
            f"data: no images found under {folder} (looked for {', '.join(EXTENSIONS)})"
        )
    if config.limit is not None and config.limit < len(listing.files):
        keep = sorted(seeded_order(len(listing.files), config.split_seed, config.limit).tolist())
        listing = Listing(
            [listing.files[i] for i in keep],
            [listing.labels[i] for i in keep],
            [listing.stats[i] for i in keep],
        )
    return listing


def _images(folder: Path) -> list[os.DirEntry]:
    """The image files of one class folder, sorted by name (as sorted Paths would be)."""
    with os.scandir(folder) as entries:
        chosen = [e for e in entries if _is_image_entry(e)]
    return sorted(chosen, key=lambda e: e.name)


def _is_image_entry(entry: os.DirEntry) -> bool:
    return os.path.splitext(entry.name)[1].lower() in EXTENSIONS and entry.is_file()


def _target(config: DataConfig, files: list[str], expected: Any) -> Target:
    """Images decode as RGB; their size is the first file's unless resized."""
    wanted = resolution_of(expected)
    if config.resize and wanted is not None:
        if wanted[0] != wanted[1]:
            raise SpaceError(
                f"data.resize: imagefolder crops square images; input.resolution "
                f"{wanted[0]}x{wanted[1]} is not square"
            )
        return plan_target(config, 3, wanted, expected)
    try:
        size = decode.image_size(files[0])
    except Exception as error:
        raise SpaceError(f"data: cannot read {files[0]} ({decode._reason(error)})") from error
    return plan_target(config, 3, size, expected)


def _build(
    folder: Path,
    parts: dict[str, tuple[list[str], list[int]]],
    classes: list[str],
    target: Target,
    resolution: int | None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"classes": classes, "corrupt": []}
    for part, stored_as in (("train", "train"), ("val", "test")):
        files, labels = parts[part]
        shape = (len(files), target.channels, *target.size)
        array = stored.new_array(folder, stored_as, shape)
        workers = decode.decode_workers()
        result = decode.decode_into(array, files, resolution, workers, f"imagefolder {part}")
        if result.mismatched:
            _, path, why = result.mismatched[0]
            raise SpaceError(
                f"data: {path} is {why} like the first image; set data.resize: true to resize "
                f"all images to input.resolution ({len(result.mismatched)} differ)"
            )
        labels_array = np.asarray(labels, dtype=np.int64)
        labels_array[[index for index, _, _ in result.corrupt]] = -1
        stored.save_labels(folder, stored_as, labels_array)
        meta["corrupt"] += [[path, why] for _, path, why in result.corrupt]
        if part == "train":
            mean = result.sums[0] / max(result.pixels, 1)
            std = np.sqrt(np.maximum(result.sums[1] / max(result.pixels, 1) - mean**2, 1e-12))
            meta["mean"], meta["std"] = mean.tolist(), std.tolist()
    return meta
