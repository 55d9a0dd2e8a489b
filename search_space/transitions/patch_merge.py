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
    Swin's (column offset, then row offset, then channel), so Swin's weights port as is.
    """

    SUMMARY = (
        "each stride x stride neighbourhood concatenated, a norm over the concatenation (the "
        "stage's `norm` and `norm_eps`: set 1e-5 for timm's Swin), a linear without bias (Swin)"
    )

    def __init__(
        self, in_chs: int, out_chs: int, stride: int, *, norm: str, eps: float | None = None
    ):
        super().__init__()
        self.stride = stride
        self.norm = make_norm(norm, in_chs * stride * stride, "channels_last", eps)
        self.reduction = nn.Linear(in_chs * stride * stride, out_chs, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride
        pad_h, pad_w = -x.shape[-2] % s, -x.shape[-1] % s
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        n, c, h, w = x.shape
        x = x.permute(0, 2, 3, 1).reshape(n, h // s, s, w // s, s, c)  # (N, h, dy, w, dx, C)
        x = x.permute(0, 1, 3, 4, 2, 5).flatten(3)  # (N, h, w, dx * dy * C)
        return self.reduction(self.norm(x)).permute(0, 3, 1, 2)  # (N, out_chs, h, w)
