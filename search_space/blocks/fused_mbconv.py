"""Fused-MBConv (EfficientNetV2, Tan & Le 2021): the expand and depthwise convs fused."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.conv import ConvNormAct
from search_space.layers.drop_path import DropPath
from search_space.layers.mobile import inner_width, mobile_options, se_width
from search_space.layers.shortcut import make_skip, skip_option
from search_space.layers.squeeze_excite import SqueezeExcite
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("fused_mbconv")
class FusedMBConvBlock(Block):
    """Full kxk conv to the inner width (with the stride), squeeze-excite, 1x1 project.

    The inner width and squeeze-excite follow the same keys as ``mbconv``; the
    squeeze-excite is off by default, as in EfficientNetV2's fused stages.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        **mobile_options(),
        "norm": norm_option("batch"),
        "act": act_option("silu"),
        "skip": skip_option("identity"),
    }
    OPTIONS["se"] = Option(float, 0.0, "squeeze-excite ratio; 0 turns it off", minimum=0, maximum=1)

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
        skip: str,
        **mobile: object,
    ):
        super().__init__()
        mid = inner_width(
            in_chs, out_chs, mobile["expansion"], mobile["expansion_from"], mobile["divisor"]
        )
        # Fixed slots: 0 kxk conv, 1 squeeze-excite (or Identity), 2 project.
        layers: list[nn.Module] = [
            ConvNormAct(in_chs, mid, kernel, stride, norm=norm, act=act),
            nn.Identity(),
            ConvNormAct(mid, out_chs, 1, norm=norm, act=None),
        ]
        if mobile["se"] > 0:
            reduced = se_width(in_chs, out_chs, mid, mobile, divisor=mobile["divisor"])
            layers[1] = SqueezeExcite(mid, reduced, mobile["se_act"], mobile["se_gate"])
        self.branch = nn.Sequential(*layers)
        self.shortcut = make_skip(in_chs, out_chs, stride, shortcut, norm, skip)
        self.drop_path = DropPath() if self.shortcut is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return self.branch(x)
        return self.shortcut(x) + self.drop_path(self.branch(x))
