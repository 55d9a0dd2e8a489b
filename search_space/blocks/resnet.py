"""ResNet basic block (He et al. 2016): two kxk convs and a residual."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.conv import ConvNormAct, conv_groups, group_problems
from search_space.layers.drop_path import DropPath
from search_space.layers.shortcut import make_shortcut
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


def groups_option() -> Option:
    return Option(int, 1, "groups of the kxk conv (ResNeXt's cardinality)", minimum=1)


def group_width_option() -> Option:
    return Option(
        int,
        None,
        "channels per group of the kxk conv; wins over groups (RegNet)",
        minimum=1,
        nullable=True,
    )


@register_block("resnet")
class ResNetBlock(Block):
    """Basic block: kxk conv (with the stride), norm, act, kxk conv, norm; + shortcut; act.

    Both kxk convs are grouped by ``groups`` or ``group_width``.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        "groups": groups_option(),
        "group_width": group_width_option(),
        "norm": norm_option("batch"),
        "act": act_option("relu"),
    }
    CHECK_KEYS = ("groups", "group_width")

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
        groups: int,
        group_width: int | None,
        norm: str,
        act: str,
    ):
        super().__init__()
        groups = conv_groups(out_chs, groups, group_width)
        self.conv1 = ConvNormAct(in_chs, out_chs, kernel, stride, norm=norm, act=act, groups=groups)
        self.conv2 = ConvNormAct(out_chs, out_chs, kernel, norm=norm, act=None, groups=groups)
        self.drop_path = DropPath()
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm)
        self.act = make_act(act)

    @classmethod
    def check(
        cls, *, in_chs: int, out_chs: int, stride: int, input_size: Size, options: dict[str, Any]
    ) -> list[str]:
        groups, width = (options.get(k, cls.OPTIONS[k].default) for k in cls.CHECK_KEYS)
        problems = group_problems(out_chs, groups, width)
        count = conv_groups(out_chs, groups, width)
        if not problems and in_chs % count:
            problems.append(f"input width {in_chs} is not divisible by the {count} conv groups")
        return problems

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shortcut(x) + self.drop_path(self.conv2(self.conv1(x))))
