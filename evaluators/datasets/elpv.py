"""elpv: 2,624 electroluminescence images of solar cells, read from the ``elpv-dataset`` package.

The images (8-bit gray, 300x300, cut from 44 modules; Buerhop-Lutz et al. 2018, Deitsch
et al. 2019) are licensed CC BY-NC-SA 4.0 and are not bundled: the user installs them
with ``pip install 'nas-vision[elpv]'``. The package's on-disk layout is
``elpv_dataset/data/labels.csv``, one whitespace-separated line per image
(``images/cell0001.png  1.0  mono``: path, defect probability 0, 1/3, 2/3 or 1, cell
type mono or poly), beside ``elpv_dataset/data/images/*.png``. ``data.root`` may point
at another folder laid out like that ``data/`` folder.

``data.labels`` picks the class: ``defect`` (the four probabilities as four classes,
the default), ``defective`` (probability >= 0.5: functional 0, defective 1) or
``cell_type`` (mono 0, poly 1). There is no official split: validation and test are
seeded, stratified shares (20% each by default) drawn within each of the eight
(probability, type) groups, so the same images are held out whatever ``labels`` says
and every label keeps its proportions in every split. The images are decoded once per
machine into the dataset cache at ``input.resolution`` (resized whatever
``data.resize`` says: nobody trains at 300x300 by accident); the stored label is the
group, mapped to the chosen class when the cache is opened.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.config import DataConfig
from evaluators.datasets import cache, decode, stored
from evaluators.datasets.base import DatasetInfo, RawData, Split
from evaluators.datasets.target import Target, plan_target, resolution_of
from search_space.errors import SpaceError, did_you_mean, one_of

PACKAGE = "elpv_dataset"
INSTALL = "pip install 'nas-vision[elpv]'"
NATIVE = (1, (300, 300))  # channels, (H, W) of every image
PROBABILITIES = (0.0, 1 / 3, 2 / 3, 1.0)  # the experts' defect probability, in class order
CELL_TYPES = ("mono", "poly")
LABELS = {  # data.labels -> class names; the default first
    "defect": ("p=0", "p=1/3", "p=2/3", "p=1"),
    "defective": ("functional", "defective"),
    "cell_type": CELL_TYPES,
}
RESIZE_METHOD = "pil-bilinear-short-side-center-crop-draft"  # part of the cache key
INFO = DatasetInfo(
    name="elpv",
    mean=(),  # measured on the training images while decoding
    std=(),
    augmentation="natural",  # a cell is as defective mirrored: pad-4 crop + flip
    val_fraction=0.2,
    test_fraction=0.2,  # 525 images never trained or selected on
)


@dataclass(frozen=True)
class Annotations:
    files: list[str]  # absolute paths, in labels.csv order
    groups: np.ndarray  # int64 (N,): probability index * 2 + cell type index


def label_names(config: DataConfig) -> tuple[str, ...]:
    return LABELS[chosen_labels(config)]


def chosen_labels(config: DataConfig) -> str:
    """``data.labels``, checked; None is ``defect``."""
    name = config.labels or next(iter(LABELS))
    if name not in LABELS:
        raise SpaceError(
            f"data.labels: elpv has no labels {name!r}{did_you_mean(name, LABELS)}; "
            f"choose {one_of(list(LABELS))}"
        )
    return name


def data_folder(config: DataConfig) -> Path:
    """The folder holding labels.csv and images/: data.root, else the installed package's."""
    if config.root:
        return Path(config.root).expanduser().absolute()
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SpaceError(
            f"data: elpv needs the elpv-dataset package, which is not installed; "
            f"install it with: {INSTALL}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_annotations(folder: Path) -> Annotations:
    """labels.csv of `folder`; a missing or malformed file is a SpaceError naming the line."""
    path = folder / "labels.csv"
    if not path.is_file():
        raise SpaceError(
            f"data.root: {path} does not exist; point data.root at the folder holding "
            f"labels.csv and images/, or leave it unset to read the package ({INSTALL})"
        )
    files, groups = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            file, group = _parse(line, path, number)
            files.append(str(folder / file))
            groups.append(group)
    if not files:
        raise SpaceError(f"data: {path} lists no images")
    return Annotations(files, np.asarray(groups, dtype=np.int64))


def _parse(line: str, path: Path, number: int) -> tuple[str, int]:
    fields = line.split()
    try:
        file, probability, cell_type = fields
        grade = min(range(4), key=lambda i: abs(PROBABILITIES[i] - float(probability)))
        if abs(PROBABILITIES[grade] - float(probability)) > 1e-3:
            raise ValueError(f"probability {probability} is not 0, 1/3, 2/3 or 1")
        return file, grade * 2 + CELL_TYPES.index(cell_type)
    except ValueError as error:
        raise SpaceError(
            f"data: {path} line {number} is not 'images/NAME.png PROBABILITY mono|poly' ({error})"
        ) from None


def open_cached(config: DataConfig, expected: Any) -> cache.CacheEntry:
    """The cache entry at the search's shape (every label choice shares it), decoded when
    missing."""
    folder = data_folder(config)
    chosen_labels(config)  # a bad data.labels fails before the decode
    annotations = read_annotations(folder)
    target = _target(config, expected)
    files = [Path(f) for f in annotations.files]
    for file in files[:1]:
        if not file.is_file():
            raise SpaceError(f"data: {file} is listed in {folder / 'labels.csv'} but missing")
    key = {
        "dataset": "elpv",
        "root": str(folder.resolve()),
        "files": cache.fingerprint([folder / "labels.csv", *files], folder),
        "shape": [target.channels, *target.size],
        "resize": RESIZE_METHOD if target.size != NATIVE[1] else None,
    }

    def build(out: Path) -> dict[str, Any]:
        return _build(out, annotations, target)

    return cache.open_or_build(cache.cache_root(config.cache_dir), "elpv", key, build)


def _target(config: DataConfig, expected: Any) -> Target:
    wanted = resolution_of(expected)
    if wanted is not None and wanted[0] != wanted[1]:
        raise SpaceError(
            f"data: elpv images are square; input.resolution {wanted[0]}x{wanted[1]} is not"
        )
    return plan_target(dataclasses.replace(config, resize=True), *NATIVE, expected)


def _build(folder: Path, annotations: Annotations, target: Target) -> dict[str, Any]:
    shape = (len(annotations.files), target.channels, *target.size)
    array = stored.new_array(folder, "train", shape)
    resolution = target.size[0] if target.size != NATIVE[1] else None
    result = decode.decode_into(
        array, annotations.files, resolution, decode.decode_workers(), "elpv"
    )
    groups = annotations.groups.copy()
    groups[[index for index, _, _ in result.corrupt]] = -1
    stored.save_labels(folder, "train", groups)
    mean = result.sums[0] / max(result.pixels, 1)
    std = np.sqrt(np.maximum(result.sums[1] / max(result.pixels, 1) - mean**2, 1e-12))
    return {
        "classes": 8,  # the stored labels are the (probability, type) groups
        "corrupt": [[path, why] for _, path, why in result.corrupt],
        "mean": mean.tolist(),
        "std": std.tolist(),
    }


def relabel(groups: Split, config: DataConfig) -> RawData:
    """The stored split (labels = groups) with the chosen classes, the groups as strata."""
    strata = groups.labels
    name = chosen_labels(config)
    if name == "defect":
        labels = strata // 2
    elif name == "defective":
        labels = (strata // 2 >= 2).long()  # p in {2/3, 1}: p >= 0.5
    else:
        labels = strata % 2
    return RawData(
        train=Split(groups.images, labels.to(torch.int64)),
        test=None,
        classes=len(LABELS[name]),
        strata=strata,
    )
