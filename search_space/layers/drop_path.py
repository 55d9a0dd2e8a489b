"""Stochastic depth (Huang et al. 2016): drop a residual branch per sample in training.

Every residual block owns one ``DropPath`` on its residual branch, created with rate 0
(the identity). The training recipe sets the rates after building, linearly increasing
with depth from 0 at the first block to ``rate`` at the last, as DeiT and ConvNeXt do;
so the architecture file stays free of training choices and the builder stays simple.
"""

from __future__ import annotations

import torch
from torch import nn


class DropPath(nn.Module):
    """Zeroes the whole branch of a random subset of samples and rescales the rest by
    1 / keep, so the expected output is unchanged. Identity in eval mode or at rate 0."""

    def __init__(self, rate: float = 0.0):
        super().__init__()
        self.rate = float(rate)

    def forward(self, branch: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate <= 0.0:
            return branch
        keep = 1.0 - self.rate
        shape = (branch.shape[0],) + (1,) * (branch.dim() - 1)  # one draw per sample
        mask = branch.new_empty(shape).bernoulli_(keep)
        return branch * mask / keep

    def extra_repr(self) -> str:
        return f"rate={self.rate:g}"


def set_drop_path(model: nn.Module, rate: float) -> int:
    """Sets the rates of `model`'s DropPath layers, in module order, linearly from 0 to
    `rate` (DeiT's schedule). Returns how many there are."""
    layers = [module for module in model.modules() if isinstance(module, DropPath)]
    for index, layer in enumerate(layers):
        layer.rate = rate * index / max(len(layers) - 1, 1)
    return len(layers)
