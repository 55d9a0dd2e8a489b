"""The image shape a search needs, and converting uint8 images to it.

``plan_target`` compares a dataset's own channels and size with the architecture's
``input`` and returns the shape to store, or a ``SpaceError`` naming the fix when
they differ and ``data.convert_channels`` / ``data.resize`` do not allow converting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from evaluators.config import DataConfig
from search_space.errors import SpaceError


@dataclass(frozen=True)
class Target:
    channels: int
    size: tuple[int, int]  # (H, W)
    converted: bool  # channels differ from the dataset's own (its statistics no longer apply)


def resolution_of(expected: Any) -> tuple[int, int] | None:
    """(H, W) of an ``arch.input``, or None without one."""
    if expected is None:
        return None
    resolution = expected.resolution
    return (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)


def plan_target(config: DataConfig, channels: int, size: tuple[int, int], expected: Any) -> Target:
    """The stored shape for a dataset of `channels` x `size` images; explains a mismatch."""
    if expected is None:
        return Target(channels, size, False)
    wanted_channels, wanted_size = expected.channels, resolution_of(expected)
    if channels != wanted_channels and not config.convert_channels:
        raise SpaceError(
            f"data: {config.name} images have {_plural(channels, 'channel')} but the "
            f"architecture's input.channels is {wanted_channels}; "
            f"set input.channels: {channels}, or data.convert_channels: true"
        )
    if channels != wanted_channels and 1 not in (channels, wanted_channels):
        raise SpaceError(
            f"data.convert_channels: cannot map {channels} channels to {wanted_channels}"
        )
    if size != wanted_size and not config.resize:
        raise SpaceError(
            f"data: {config.name} images are {size[0]}x{size[1]} but the architecture's "
            f"input.resolution is {wanted_size[0]}x{wanted_size[1]}; set input.resolution: "
            f"{size[0]}, or data.resize: true"
        )
    return Target(wanted_channels, wanted_size, channels != wanted_channels)


def adapt_images(images: torch.Tensor, target: Target) -> torch.Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, target.channels, *target.size)."""
    if images.shape[1] != target.channels:
        images = _convert_channels(images, target.channels)
    if tuple(images.shape[2:]) != target.size:
        images = _resize(images, target.size)
    return images


def _convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    if images.shape[1] == 1:  # gray -> RGB: repeat
        return images.expand(-1, channels, -1, -1).contiguous()
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)  # RGB -> gray: ITU-R 601
    gray = (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255)
    return gray.to(torch.uint8)


def _resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear (antialiased when shrinking) resize of uint8 images."""
    block = F.interpolate(
        images.float(), size=size, mode="bilinear", antialias=True, align_corners=False
    )
    return block.round().clamp(0, 255).to(torch.uint8)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
