"""Squeeze-and-excitation (Hu et al. 2018), as used in MBConv, Fused-MBConv and RegNetY."""

from __future__ import annotations

import torch
from torch import nn

from search_space.layers.acts import make_act

SE_GATES = ("sigmoid", "hard_sigmoid")


class SqueezeExcite(nn.Module):
    """Channel gate: global pool, 1x1 reduce, act, 1x1 expand, gate.

    SiLU and sigmoid by default, as in EfficientNet and timm's CoAtNet; MobileNetV3
    uses ReLU and hard-sigmoid.
    """

    def __init__(self, channels: int, reduced: int, act: str = "silu", gate: str = "sigmoid"):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = make_act(act)
        self.expand = nn.Conv2d(reduced, channels, 1)
        self.gate = make_act(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)  # (N, C, H, W) -> (N, C, 1, 1)
        scale = self.expand(self.act(self.reduce(scale)))
        return x * self.gate(scale)
