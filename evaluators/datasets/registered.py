"""Datasets added by plug-ins: ``@register_dataset`` on a function that reads the images.

    from evaluators.datasets import RawData, Split, register_dataset

    @register_dataset("leaves", augmentation="natural", val_fraction=0.1)
    def read_leaves(config):              # config: evaluators.config.DataConfig
        images, labels = ...               # uint8 (N, C, H, W), int64 (N,)
        return RawData(train=Split(images, labels), test=None, classes=12)

The function is called once per process that trains (the Ray worker keeps the result)
with the ``data:`` section, so it may read ``config.root`` and ``config.limit``. Its
images are held in memory; the dataset is then checked, resized or converted to the
architecture's ``input`` (when ``data.resize`` / ``data.convert_channels`` allow),
split and normalized exactly like a bundled dataset. With no ``mean``/``std``, they are
measured on the training images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evaluators.config import DataConfig
from evaluators.datasets.base import DatasetInfo, RawData

Reader = Callable[[DataConfig], RawData]
AUGMENTATIONS = ("digits", "natural")


@dataclass(frozen=True)
class RegisteredDataset:
    info: DatasetInfo
    read: Reader


REGISTERED: dict[str, RegisteredDataset] = {}
BUNDLED: set[str] = set()  # filled by evaluators.datasets: names a plug-in may not take


def register_dataset(
    name: str,
    *,
    augmentation: str = "natural",
    val_fraction: float = 0.1,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
) -> Callable[[Reader], Reader]:
    """Registers `read(config) -> RawData` as dataset `name` (``data.name`` in YAML).

    `augmentation`: "natural" (pad-4 random crop + flip) or "digits" (pad-2 crop, no
    flip); `val_fraction`: the default held-out share with ``validation: split``.
    """
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {AUGMENTATIONS}, got {augmentation!r}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")

    def wrap(read: Reader) -> Reader:
        if name in REGISTERED or name in BUNDLED:
            raise ValueError(f"dataset {name!r} is already registered")
        info = DatasetInfo(name, tuple(mean), tuple(std), augmentation, val_fraction)
        REGISTERED[name] = RegisteredDataset(info, read)
        return read

    return wrap
