"""Normalization layers by name, for channels-first maps and channels-last tensors.

Layouts:
- ``channels_first``: (N, C, H, W) feature maps, what convolutions read and write.
- ``channels_last``: (N, ..., C), what ``nn.Linear`` reads: (N, H, W, C) maps,
  (N, T, C) token sequences or pooled (N, C) features.

Every name works in both layouts, so any block accepts any norm.
Group norm uses ``gcd(32, channels)`` groups: 32 (the GroupNorm paper's default)
whenever the width allows it, else the largest divisor of the width that also
divides 32, so no width is ever rejected for group norm. ``group1`` is group norm
with one group: statistics over channels and positions together (PoolFormer).
`eps` None is each norm's usual epsilon (1e-6 for layer norm, 1e-5 for the rest).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from search_space.errors import SpaceError, did_you_mean, one_of

NORM_NAMES = ("batch", "layer", "group", "group1", "none")
LAYER_NORM_EPS = 1e-6  # ConvNeXt, ViT and CoAtNet all use 1e-6
GROUPS = 32


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over C of an (N, C, H, W) map, as in ConvNeXt's downsampling layers."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)


class ChannelsLast(nn.Module):
    """Applies a channels-first norm (batch or group) to an (N, ..., C) tensor."""

    def __init__(self, norm: nn.Module):
        super().__init__()
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.reshape(x.shape[0], -1, x.shape[-1]).transpose(1, 2)  # (N, ..., C) -> (N, C, L)
        return self.norm(y).transpose(1, 2).reshape(x.shape)


def group_count(channels: int) -> int:
    """Number of groups group norm uses for `channels`: gcd(32, channels)."""
    return math.gcd(GROUPS, channels)


def make_norm(
    name: str, channels: int, layout: str = "channels_first", eps: float | None = None
) -> nn.Module:
    """Returns the norm `name` over `channels` for tensors in `layout`."""
    if name not in NORM_NAMES:
        raise SpaceError(
            f"unknown norm {name!r}{did_you_mean(name, NORM_NAMES)}; choose {one_of(NORM_NAMES)}"
        )
    if layout not in ("channels_first", "channels_last"):
        raise ValueError(f"unknown layout {layout!r}")
    first = layout == "channels_first"
    if name == "none":
        return nn.Identity()
    if name == "layer":
        eps = LAYER_NORM_EPS if eps is None else eps
        return LayerNorm2d(channels, eps=eps) if first else nn.LayerNorm(channels, eps=eps)
    eps = 1e-5 if eps is None else eps
    if name == "batch":
        norm = nn.BatchNorm2d(channels, eps=eps) if first else nn.BatchNorm1d(channels, eps=eps)
        return norm if first else ChannelsLast(norm)
    groups = 1 if name == "group1" else group_count(channels)
    norm = nn.GroupNorm(groups, channels, eps=eps)  # accepts (N, C, *) of any rank
    return norm if first else ChannelsLast(norm)
