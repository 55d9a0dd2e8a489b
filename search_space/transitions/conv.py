"""An overlapping strided conv between stages (PoolFormer's downsampling)."""

from __future__ import annotations

import torch
from torch import nn

from search_space.component import Size, Transition
from search_space.registry import register_transition


@register_transition("conv")
class ConvTransition(Transition):
    """(N, in_chs, H, W) -> (N, out_chs, ceil(H / s), ceil(W / s)) for stride s.

    A (2s - 1) x (2s - 1) conv with bias, stride s, padding s - 1, and no norm:
    3x3 stride 2 padding 1 in PoolFormer, whose blocks normalize their own input.
    """

    SUMMARY = (
        "a (2 stride - 1) conv with bias, padding stride - 1, and no norm (PoolFormer's 3x3 "
        "stride 2)"
    )

    def __init__(
        self, in_chs: int, out_chs: int, stride: int, *, norm: str, eps: float | None = None
    ):
        super().__init__()
        self.conv = nn.Conv2d(in_chs, out_chs, 2 * stride - 1, stride, stride - 1)

    @classmethod
    def output_size(cls, input_size: Size, stride: int) -> Size:
        # floor((H + 2(s - 1) - (2s - 1)) / s) + 1 = floor((H - 1) / s) + 1 = ceil(H / s)
        return super().output_size(input_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)
