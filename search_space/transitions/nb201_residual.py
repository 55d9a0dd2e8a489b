"""NAS-Bench-201's reduction cell: a ResNet basic block between its stages."""

from __future__ import annotations

import torch
from torch import nn

from search_space.component import Transition
from search_space.layers.nb201_ops import ReLUConvBN
from search_space.registry import register_transition


@register_transition("nb201_residual")
class NB201Residual(Transition):
    """(N, in_chs, H, W) -> (N, out_chs, ceil(H / s), ceil(W / s)) for stride s.

    ReLU-conv3x3(stride s)-BN, ReLU-conv3x3-BN, plus a shortcut: s x s average pool and a
    1x1 conv without norm when s > 1 (NB201: 2x2/2 pool), a 1x1 ReLU-conv-BN when only the
    width changes. Always batch norm, as in NB201; the stage's ``norm`` is not read.
    """

    # One line for the README's key reference (the generator reads it where it lists
    # transitions by this attribute).
    SUMMARY = (
        "NAS-Bench-201's residual block: ReLU-conv3x3/s-BN, ReLU-conv3x3-BN, plus a s x s "
        "average pool and 1x1 conv shortcut"
    )

    def __init__(
        self, in_chs: int, out_chs: int, stride: int, *, norm: str, eps: float | None = None
    ):
        super().__init__()
        self.conv_a = ReLUConvBN(in_chs, out_chs, 3, stride)
        self.conv_b = ReLUConvBN(out_chs, out_chs, 3)
        if stride > 1:
            self.shortcut: nn.Module = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True),
                nn.Conv2d(in_chs, out_chs, 1, bias=False),
            )
        elif in_chs != out_chs:
            self.shortcut = ReLUConvBN(in_chs, out_chs, 1)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))
