"""ConvNeXt's downsampling layer between stages: norm, then a kxk stride-k conv."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from search_space.component import Transition
from search_space.layers.norms import make_norm
from search_space.registry import register_transition


@register_transition("norm_conv")
class NormConvTransition(Transition):
    """(N, in_chs, H, W) -> (N, out_chs, ceil(H / stride), ceil(W / stride)).

    The conv's kernel equals its stride (2x2 stride 2 in ConvNeXt) and has a bias;
    sizes that are not a multiple of the stride are zero-padded at the bottom/right.
    """

    SUMMARY = (
        "a norm over the input (the stage's `norm` and `norm_eps`), then a stride x stride "
        "conv with bias (ConvNeXt)"
    )

    def __init__(
        self, in_chs: int, out_chs: int, stride: int, *, norm: str, eps: float | None = None
    ):
        super().__init__()
        self.stride = stride
        self.norm = make_norm(norm, in_chs, eps=eps)
        self.conv = nn.Conv2d(in_chs, out_chs, stride, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        pad_h, pad_w = -x.shape[-2] % self.stride, -x.shape[-1] % self.stride
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        return self.conv(x)
