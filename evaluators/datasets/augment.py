"""Batch augmentation and normalization on uint8 image tensors (N, C, H, W).

Working on whole batches with tensor indexing replaces per-sample PIL transforms,
which dominate the step time of small models on a 2-core CPU. The recipes are the
standard ones: "natural" images (CIFAR, folders) get a random crop from a 4-pixel
zero-padded image plus a horizontal flip; "digits" get a 2-pixel crop only (a flipped
digit is another glyph). Randomness comes from the `generator` argument only, a CPU
generator: the draws are made on the CPU and moved to the batch's device, so a batch on
a GPU is augmented there with the same draws (and crops) as on the CPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

RECIPES: dict[str, tuple[int, bool]] = {  # name -> (crop padding, horizontal flip)
    "digits": (2, False),
    "natural": (4, True),
}


def augment(images: torch.Tensor, recipe: str | None, generator: torch.Generator) -> torch.Tensor:
    """Applies the named recipe to a batch (N, C, H, W); None returns it unchanged."""
    if recipe is None:
        return images
    padding, flip = RECIPES[recipe]
    images = random_crop(images, padding, generator)
    return random_flip(images, generator) if flip else images


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Per-image random (H, W) crop of the zero-padded batch: a random shift by up to `padding`."""
    n = len(images)
    padded = F.pad(images, (padding, padding, padding, padding))
    top = torch.randint(0, 2 * padding + 1, (n, 1), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (n, 1), generator=generator)
    if images.device.type == "cpu":
        return _crop_each(padded, top.flatten(), left.flatten(), images.shape[2:])
    device = images.device
    return _crop_gathered(padded, to_device(top, device), to_device(left, device), images.shape[2:])


def _crop_each(
    padded: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: torch.Size
) -> torch.Tensor:
    """One strided copy per image: on a CPU ~15x faster than `_crop_gathered`'s index
    per pixel (6 vs 99 ms for 64 images of 3x224x224 on one thread)."""
    h, w = size
    out = padded.new_empty((len(padded), padded.shape[1], h, w))
    for i, (y, x) in enumerate(zip(top.tolist(), left.tolist())):
        out[i] = padded[i, :, y : y + h, x : x + w]
    return out


def _crop_gathered(
    padded: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: torch.Size
) -> torch.Tensor:
    """The same crops as one gather (one kernel on a GPU); `top`, `left` are (N, 1)."""
    (n, c), (h, w), device = padded.shape[:2], size, padded.device
    rows = (top + torch.arange(h, device=device)).view(n, 1, h, 1)  # (N, 1, H, 1)
    cols = (left + torch.arange(w, device=device)).view(n, 1, 1, w)  # (N, 1, 1, W)
    batch = torch.arange(n, device=device).view(n, 1, 1, 1)
    channel = torch.arange(c, device=device).view(1, c, 1, 1)
    return padded[batch, channel, rows, cols]


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flips each image left-right with probability 1/2."""
    flip = torch.rand(len(images), generator=generator) < 0.5
    if images.device.type != "cpu":  # one kernel
        return torch.where(to_device(flip, images.device).view(-1, 1, 1, 1), images.flip(3), images)
    out = images.clone()  # then only the chosen images are flipped: 3 vs 15 ms at 224x224
    for i in flip.nonzero().flatten().tolist():
        out[i] = images[i].flip(2)
    return out


def to_device(draws: torch.Tensor, device: torch.device) -> torch.Tensor:
    """CPU draws on `device` without waiting for it: a plain copy of pageable memory to a
    GPU waits for every kernel queued before it (the CPU stalls once per batch), a copy
    from page-locked memory is queued like a kernel."""
    if device.type != "cuda":
        return draws.to(device)
    return draws.pin_memory().to(device, non_blocking=True)


def normalize(
    images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 (pixel / 255 - mean) / std, per channel."""
    scale = torch.tensor([1.0 / (255.0 * s) for s in std], device=images.device)
    shift = torch.tensor([m / s for m, s in zip(mean, std)], device=images.device)
    return images.float() * scale.view(1, -1, 1, 1) - shift.view(1, -1, 1, 1)
