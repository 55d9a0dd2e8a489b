"""ResNet basic block (He et al. 2016): two kxk convs and a residual."""

from __future__ import annotations

from typing import ClassVar

import torch

from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.conv import ConvNormAct
from search_space.layers.shortcut import make_shortcut
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("resnet")
class ResNetBlock(Block):
    """Basic block: kxk conv (with the stride), norm, act, kxk conv, norm; + shortcut; act."""

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
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
        norm: str,
        act: str,
    ):
        super().__init__()
        self.conv1 = ConvNormAct(in_chs, out_chs, kernel, stride, norm=norm, act=act)
        self.conv2 = ConvNormAct(out_chs, out_chs, kernel, norm=norm, act=None)
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm)
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shortcut(x) + self.conv2(self.conv1(x)))
