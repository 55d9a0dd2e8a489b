"""Squeeze-and-excitation (Hu et al. 2018), as used in MBConv."""

from __future__ import annotations

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    """Channel gate: global pool, 1x1 reduce, SiLU, 1x1 expand, sigmoid.

    SiLU whatever the block's activation, as in EfficientNet and timm's CoAtNet.
    """

    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = nn.SiLU()
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)  # (N, C, H, W) -> (N, C, 1, 1)
        scale = self.expand(self.act(self.reduce(scale)))
        return x * scale.sigmoid()
