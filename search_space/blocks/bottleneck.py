"""ResNet bottleneck block (He et al. 2016), with the stride on the kxk conv ("v1.5")."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.conv import ConvNormAct
from search_space.layers.shortcut import make_shortcut
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("bottleneck")
class BottleneckBlock(Block):
    """1x1 reduce to width / expansion, kxk (with the stride), 1x1 expand; + shortcut; act.

    `width` (out_chs) is the block's output, as for every block; the inner
    bottleneck width is round(out_chs / expansion). ResNet-50's first stage is
    width 256 with expansion 4, so its 3x3 convs are 64 wide.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        "expansion": Option(int, 4, "output width / bottleneck width", minimum=1),
        "norm": norm_option("batch"),
        "act": act_option("relu"),
    }

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        stride: int = 1,
        *,
        input_size: Size,
        index: int = 0,
        shortcut: str = "conv",
        kernel: int,
        expansion: int,
        norm: str,
        act: str,
    ):
        super().__init__()
        mid = max(1, round(out_chs / expansion))
        self.branch = nn.Sequential(
            ConvNormAct(in_chs, mid, 1, norm=norm, act=act),
            ConvNormAct(mid, mid, kernel, stride, norm=norm, act=act),
            ConvNormAct(mid, out_chs, 1, norm=norm, act=None),
        )
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm)
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shortcut(x) + self.branch(x))
