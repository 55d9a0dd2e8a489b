"""One conv, norm and act, with a residual where the shape allows (EfficientNetV2)."""

from __future__ import annotations

from typing import ClassVar

import torch

from search_space.component import Block, Size
from search_space.layers.conv import ConvNormAct
from search_space.layers.drop_path import DropPath
from search_space.layers.shortcut import make_skip, skip_option
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("conv")
class ConvBlock(Block):
    """kxk conv (with the stride), norm, act; + the input where ``skip`` gives a residual.

    The residual is added after the activation, as in EfficientNetV2's first stage.
    ``skip: none`` makes it a plain conv layer (VGG-style stacks).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        "norm": norm_option("batch"),
        "act": act_option("relu"),
        "skip": skip_option("identity"),
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
        skip: str,
    ):
        super().__init__()
        self.conv = ConvNormAct(in_chs, out_chs, kernel, stride, norm=norm, act=act)
        self.shortcut = make_skip(in_chs, out_chs, stride, shortcut, norm, skip)
        self.drop_path = DropPath() if self.shortcut is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return self.conv(x)
        return self.shortcut(x) + self.drop_path(self.conv(x))
