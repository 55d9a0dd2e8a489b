"""Two-layer perceptron over the last dimension, and layer scale."""

from __future__ import annotations

import torch
from torch import nn

from search_space.layers.acts import make_act


class Mlp(nn.Sequential):
    """Linear -> act -> Linear over the last dim: (N, ..., in_chs) -> (N, ..., out_chs)."""

    def __init__(self, in_chs: int, hidden: int, out_chs: int, act: str):
        super().__init__(nn.Linear(in_chs, hidden), make_act(act), nn.Linear(hidden, out_chs))


def hidden_width(width: int, ratio: float) -> int:
    """Hidden width of an MLP: round(ratio * width), at least 1."""
    return max(1, round(ratio * width))


class LayerScale(nn.Module):
    """Learned per-channel scale of a residual branch (CaiT, ConvNeXt); channels-last."""

    def __init__(self, channels: int, init: float):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma  # (N, ..., C) * (C,)


def make_layer_scale(channels: int, init: float) -> nn.Module:
    """LayerScale with `init`, or Identity when `init` is 0 (off)."""
    return LayerScale(channels, init) if init > 0 else nn.Identity()
