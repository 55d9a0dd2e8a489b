"""ResNet bottleneck block (He et al. 2016), with the stride on the kxk conv ("v1.5");
grouped as in ResNeXt (Xie et al. 2017) and RegNet (Radosavovic et al. 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.blocks.resnet import group_width_option, groups_option
from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.conv import ConvNormAct, conv_groups, group_problems
from search_space.layers.drop_path import DropPath
from search_space.layers.shortcut import make_shortcut
from search_space.layers.squeeze_excite import SqueezeExcite
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("bottleneck")
class BottleneckBlock(Block):
    """1x1 reduce to width / expansion, kxk (with the stride), 1x1 expand; + shortcut; act.

    `width` (out_chs) is the block's output, as for every block; the inner
    bottleneck width is round(out_chs / expansion). ResNet-50's first stage is
    width 256 with expansion 4, so its 3x3 convs are 64 wide; ResNeXt-50 32x4d's
    is expansion 2 with 32 groups (128 wide, 4 channels per group). ``se`` adds
    squeeze-excite after the kxk conv, sized from the block input (RegNetY).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        "expansion": Option(float, 4, "output width / bottleneck width", minimum=0.0625),
        "groups": groups_option(),
        "group_width": group_width_option(),
        "se": Option(
            float,
            0.0,
            "squeeze-excite ratio of the block input width (RegNetY: 0.25); 0 = off. "
            "mbconv's se is of its output width by default",
            minimum=0,
        ),
        "norm": norm_option("batch"),
        "act": act_option("relu"),
    }
    CHECK_KEYS = ("expansion", "groups", "group_width")

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
        expansion: float,
        groups: int,
        group_width: int | None,
        se: float,
        norm: str,
        act: str,
    ):
        super().__init__()
        mid = bottleneck_width(out_chs, expansion)
        groups = conv_groups(mid, groups, group_width)
        self.branch = nn.Sequential(
            ConvNormAct(in_chs, mid, 1, norm=norm, act=act),
            ConvNormAct(mid, mid, kernel, stride, norm=norm, act=act, groups=groups),
            SqueezeExcite(mid, max(1, round(se * in_chs)), "relu") if se > 0 else nn.Identity(),
            ConvNormAct(mid, out_chs, 1, norm=norm, act=None),
        )
        self.drop_path = DropPath()
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm)
        self.act = make_act(act)

    @classmethod
    def check(
        cls, *, in_chs: int, out_chs: int, stride: int, input_size: Size, options: dict[str, Any]
    ) -> list[str]:
        expansion, groups, width = (options.get(k, cls.OPTIONS[k].default) for k in cls.CHECK_KEYS)
        return group_problems(bottleneck_width(out_chs, expansion), groups, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shortcut(x) + self.drop_path(self.branch(x)))


def bottleneck_width(out_chs: int, expansion: float) -> int:
    return max(1, round(out_chs / expansion))
