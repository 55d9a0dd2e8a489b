"""Pre-activation bottleneck (ResNetV2, He et al. 2016b) with GroupNorm and Weight
Standardization, as in BiT (Kolesnikov et al. 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.blocks.bottleneck import bottleneck_width
from search_space.blocks.resnet import group_width_option, groups_option
from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.conv import conv_groups, group_problems
from search_space.layers.drop_path import DropPath
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_pool
from search_space.layers.std_conv import make_conv
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("preact_bottleneck")
class PreActBottleneckBlock(Block):
    """norm-act, 1x1 reduce, norm-act, kxk (with the stride), norm-act, 1x1 expand; + shortcut.

    Pre-activation: each conv reads a normalized, activated input and the sum is
    left bare, so a network of these ends with a norm and act in its head
    (``head: {norm: group, norm_position: map, act: relu}``). When the shape
    changes, the shortcut is a strided 1x1 conv (no norm) of the normalized
    input. ``weight_std`` standardizes every conv kernel (BiT).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        "expansion": Option(float, 4, "output width / bottleneck width", minimum=0.0625),
        "groups": groups_option(),
        "group_width": group_width_option(),
        "norm": norm_option("group"),
        "act": act_option("relu"),
        "weight_std": Option(bool, True, "standardize conv weights (BiT's Weight Standardization)"),
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
        norm: str,
        act: str,
        weight_std: bool,
    ):
        super().__init__()
        mid = bottleneck_width(out_chs, expansion)
        groups = conv_groups(mid, groups, group_width)
        self.norm1 = nn.Sequential(make_norm(norm, in_chs), make_act(act))
        self.conv1 = make_conv(in_chs, mid, 1, weight_std=weight_std)
        self.norm2 = nn.Sequential(make_norm(norm, mid), make_act(act))
        self.conv2 = make_conv(mid, mid, kernel, stride, groups=groups, weight_std=weight_std)
        self.norm3 = nn.Sequential(make_norm(norm, mid), make_act(act))
        self.conv3 = make_conv(mid, out_chs, 1, weight_std=weight_std)
        self.drop_path = DropPath()
        self.downsample = None
        if stride > 1 or in_chs != out_chs:
            pooled = shortcut == "pool"
            self.downsample = nn.Sequential(
                make_pool(stride) if pooled else nn.Identity(),
                make_conv(in_chs, out_chs, 1, 1 if pooled else stride, weight_std=weight_std),
            )

    @classmethod
    def check(
        cls, *, in_chs: int, out_chs: int, stride: int, input_size: Size, options: dict[str, Any]
    ) -> list[str]:
        expansion, groups, width = (options.get(k, cls.OPTIONS[k].default) for k in cls.CHECK_KEYS)
        return group_problems(bottleneck_width(out_chs, expansion), groups, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        preact = self.norm1(x)
        shortcut = x if self.downsample is None else self.downsample(preact)
        y = self.conv1(preact)
        y = self.conv2(self.norm2(y))
        y = self.conv3(self.norm3(y))
        return shortcut + self.drop_path(y)
