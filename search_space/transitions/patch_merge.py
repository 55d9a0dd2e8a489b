"""Swin's patch merging: each stride x stride neighbourhood becomes one pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from search_space.component import Transition
from search_space.layers.norms import make_norm
from search_space.registry import register_transition


@register_transition("patch_merge")
class PatchMergeTransition(Transition):
    """(N, C, H, W) -> (N, out_chs, ceil(H / s), ceil(W / s)) for stride s.

    Concatenates each s x s neighbourhood (s^2 C channels), normalizes, and maps
    to out_chs with a Linear without bias: LayerNorm(4C) and Linear(4C, 2C) in Swin.
    Odd sizes are zero-padded at the bottom/right first. The concatenation order is
    ``pixel_unshuffle``'s (channel-major), not Swin's; it only matters for porting
    Swin's weights.
    """

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, norm: str):
        super().__init__()
        self.stride = stride
        self.norm = make_norm(norm, in_chs * stride * stride, "channels_last")
        self.reduction = nn.Linear(in_chs * stride * stride, out_chs, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad_h, pad_w = -x.shape[-2] % self.stride, -x.shape[-1] % self.stride
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        x = F.pixel_unshuffle(x, self.stride)  # (N, C, H, W) -> (N, s*s*C, H/s, W/s)
        x = self.reduction(self.norm(x.permute(0, 2, 3, 1)))  # (N, H/s, W/s, out_chs)
        return x.permute(0, 3, 1, 2)
