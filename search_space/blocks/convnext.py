"""ConvNeXt block (Liu et al. 2022)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.drop_path import DropPath
from search_space.layers.mlp import Mlp, make_layer_scale
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_shortcut
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("convnext")
class ConvNeXtBlock(Block):
    """Depthwise kxk conv, norm, 1x1 expand, act, 1x1 project, layer scale; + shortcut.

    With a stride or a width change, the depthwise conv strides on in_chs and the
    1x1 expand maps in_chs to out_chs * expansion; the residual goes through the
    stage's shortcut. (ConvNeXt itself downsamples with a ``norm_conv`` stage
    transition, so its blocks keep their shape.)
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(7),
        "expansion": Option(int, 4, "MLP width / output width", minimum=1),
        "norm": norm_option("layer"),
        "act": act_option("gelu"),
        "layer_scale": Option(float, 1e-6, "layer scale init; 0 turns it off", minimum=0),
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
        layer_scale: float,
    ):
        super().__init__()
        self.depthwise = nn.Conv2d(in_chs, in_chs, kernel, stride, kernel // 2, groups=in_chs)
        self.norm = make_norm(norm, in_chs, "channels_last")
        self.mlp = Mlp(in_chs, out_chs * expansion, out_chs, act)  # 1x1 convs as Linear
        self.scale = make_layer_scale(out_chs, layer_scale)
        self.drop_path = DropPath()
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.depthwise(x).permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        y = self.scale(self.mlp(self.norm(y)))
        return self.shortcut(x) + self.drop_path(y.permute(0, 3, 1, 2))  # back to (N, C, H, W)
