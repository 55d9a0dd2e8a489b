"""Random erasing (Zhong et al. 2020) per image, with torchvision's RandomErasing.

torchvision draws one rectangle per call, so the images to erase are picked here with
the training loop's generator and each is erased by its own call (a batch-wide call
would cut the same box out of every image). Applied to the normalized float batch with
value 0, i.e. the dataset's mean pixel, as in the DeiT recipe's "const" mode.
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2

_ERASE = v2.RandomErasing(p=1.0, value=0.0)  # scale (0.02, 0.33), ratio (0.3, 3.3)


def random_erase(
    images: torch.Tensor, probability: float, generator: torch.Generator
) -> torch.Tensor:
    """Erases one random rectangle in each image with `probability`; (N, C, H, W) float."""
    if probability <= 0:
        return images
    chosen = (torch.rand(len(images), generator=generator) < probability).nonzero().flatten()
    if len(chosen) == 0:
        return images
    images = images.clone()
    for index in chosen.tolist():
        images[index] = _ERASE(images[index])
    return images
