"""Zero-cost proxies: scores of an untrained network that correlate with trained accuracy.

``compute_proxy(name, model, inputs)`` with `name` one of ``list_proxies()`` (synflow,
naswot, grad_norm). The batch is `inputs` (a real, normalized batch (N, C, H, W)),
or drawn from `dataset` (a seeded batch of its training images, normalized, with their
labels), or, given a (C, H, W) shape, a seeded N(0, 1) batch. Each proxy is
deterministic for a seed, leaves the model untouched, and is higher-is-better.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from evaluators.device import plan_device
from evaluators.proxies import grad_norm, naswot, synflow  # noqa: F401  (registers them)
from evaluators.proxies.common import PROXIES, Inputs, get_proxy

if TYPE_CHECKING:
    from evaluators.datasets import Dataset

__all__ = ["compute_proxy", "dataset_batch", "list_proxies"]

DEFAULT_BATCH = 32  # NASWOT's kernel is batch x batch: 32 keeps it cheap on a CPU


def list_proxies() -> list[str]:
    return sorted(PROXIES)


def compute_proxy(
    name: str,
    model: nn.Module,
    inputs: Inputs | None = None,
    *,
    dataset: Dataset | None = None,
    seed: int = 0,
    targets: torch.Tensor | None = None,
    device: str = "cpu",
    batch_size: int = DEFAULT_BATCH,
) -> float:
    """The proxy `name`'s score of `model` (an unknown name is a SpaceError).

    Give `inputs` (a batch or a (C, H, W) shape) or `dataset`; `device` is a device
    string as in ``train.device`` ("auto" picks CUDA when present).
    """
    proxy = get_proxy(name)
    if dataset is not None:
        inputs, targets = dataset_batch(dataset, batch_size, seed)
    if inputs is None:
        raise ValueError("compute_proxy needs inputs (a batch or a shape) or a dataset")
    target_device = plan_device(device, amp=False, channels_last=False).device
    return float(proxy(model, inputs, seed=seed, targets=targets, device=target_device))


def dataset_batch(
    dataset: Dataset, batch_size: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded batch of training images, normalized as in training, and their labels."""
    from evaluators.datasets.augment import normalize
    from evaluators.datasets.base import seeded_order

    index = seeded_order(len(dataset.train), seed, min(batch_size, len(dataset.train)))
    images = normalize(dataset.train.images[index], dataset.mean, dataset.std)
    return images, dataset.train.labels[index]
