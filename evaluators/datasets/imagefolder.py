"""imagefolder: your own images, ``<root>/train/<class>/*`` and ``<root>/val/<class>/*``.

The class names are the sub-folders of ``train/`` (sorted, as torchvision's
ImageFolder does); ``val/`` is the validation split as given (``val_fraction`` is not
used). Images are decoded once, as RGB (grayscale files too, as torchvision's loader
does), into uint8 tensors in memory, on ``data.num_workers`` processes; so this is
meant for small folders. They must all have one size unless ``data.resize`` is set,
which resizes the short side to the architecture's resolution and center-crops a
square. Normalization constants are measured on the training images.
"""

from __future__ import annotations

from pathlib import Path

import torch

from evaluators.datasets.base import RawData, Split, seeded_order
from search_space.errors import SpaceError


def read(
    root: Path,
    resolution: int | None,
    num_workers: int = 0,
    limit: int | None = None,
    seed: int = 0,
) -> RawData:
    """Reads train/ and val/ under `root`; `resolution` resizes when given.

    `limit` decodes only that many images of each folder (a seeded choice).
    """
    for part in ("train", "val"):
        if not (root / part).is_dir():
            raise SpaceError(
                f"data: imagefolder needs {root / part}/ with one sub-folder per class; "
                "set data.root to the folder that holds train/ and val/"
            )
    subset = (limit, seed)
    train = _folder(root / "train", resolution, num_workers, None, subset)
    val = _folder(root / "val", resolution, num_workers, train.class_to_idx, subset)
    return RawData(train=train.split, test=val.split, classes=len(train.class_to_idx))


class _Folder:
    def __init__(self, split: Split, class_to_idx: dict[str, int]):
        self.split, self.class_to_idx = split, class_to_idx


def _folder(
    path: Path,
    resolution: int | None,
    workers: int,
    classes: dict[str, int] | None,
    subset: tuple[int | None, int],
) -> _Folder:
    from torchvision import datasets, transforms

    steps = [transforms.Resize(resolution), transforms.CenterCrop(resolution)] if resolution else []
    try:
        folder = datasets.ImageFolder(
            str(path), transform=transforms.Compose([*steps, transforms.PILToTensor()])
        )
    except (FileNotFoundError, RuntimeError) as error:
        raise SpaceError(f"data: imagefolder {path}: {error}") from error
    if classes is not None:
        unknown = sorted(set(folder.class_to_idx) - set(classes))
        if unknown:
            raise SpaceError(f"data: {path} has classes not in train/: {', '.join(unknown)}")
    limit, seed = subset
    if limit is not None and limit < len(folder.samples):
        keep = sorted(seeded_order(len(folder.samples), seed, limit).tolist())
        folder.samples = [folder.samples[i] for i in keep]
        folder.targets = [folder.targets[i] for i in keep]
    images = _decode_all(folder, workers)
    labels = list(folder.targets)
    if classes is not None:  # val/ may lack some classes: map its indices to train's
        names = {i: n for n, i in folder.class_to_idx.items()}
        labels = [classes[names[i]] for i in labels]
    return _Folder(Split(images, torch.tensor(labels, dtype=torch.int64)), folder.class_to_idx)


def _only_item(batch: list) -> object:
    return batch[0]


def _decode_all(folder: object, workers: int) -> torch.Tensor:
    from torch.utils.data import DataLoader

    images = []
    loader = DataLoader(folder, batch_size=1, num_workers=workers, collate_fn=_only_item)
    first_shape = None
    for index, (image, _) in enumerate(loader):
        if first_shape is None:
            first_shape = image.shape
        elif image.shape != first_shape:
            raise SpaceError(
                f"data: {folder.samples[index][0]} is {tuple(image.shape[1:])} but earlier "
                f"images are {tuple(first_shape[1:])}; set data.resize: true to resize them"
            )
        images.append(image)
    if not images:
        raise SpaceError(f"data: no images found under {folder.root}")
    return torch.stack(images)
