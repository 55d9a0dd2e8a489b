"""Inverted residual block, MBConv (MobileNetV2, EfficientNet; CoAtNet's conv stages)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.conv import ConvNormAct
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_shortcut
from search_space.layers.squeeze_excite import SqueezeExcite
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("mbconv")
class MBConvBlock(Block):
    """1x1 expand, depthwise kxk (with the stride), squeeze-excite, 1x1 project; + shortcut.

    The inner width is out_chs * expansion (CoAtNet's rule; EfficientNet expands
    in_chs, which differs only in a stage's first block). ``expansion: 1`` is a
    depthwise-separable conv: no expand conv, the depthwise conv runs on in_chs.
    Squeeze-excite reduces to round(se * inner / expansion) channels, i.e. a
    fraction of the block's base width, as in EfficientNet and CoAtNet.

    ``norm_position``:
    - ``post`` (EfficientNet): every conv is followed by a norm; no norm on input.
    - ``pre`` (CoAtNet): a norm (no act) on the input; the projection has a bias
      and no norm after it.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        "expansion": Option(int, 4, "inner width / output width", minimum=1),
        "se": Option(float, 0.25, "squeeze-excite ratio; 0 turns it off", minimum=0, maximum=1),
        "norm": norm_option("batch"),
        "act": act_option("silu"),
        "norm_position": Option(str, "post", "where the norms sit", choices=("post", "pre")),
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
        se: float,
        norm: str,
        act: str,
        norm_position: str,
    ):
        super().__init__()
        pre = norm_position == "pre"
        mid = in_chs if expansion == 1 else out_chs * expansion
        layers: list[nn.Module] = [make_norm(norm, in_chs) if pre else nn.Identity()]
        if expansion > 1:
            layers.append(ConvNormAct(in_chs, mid, 1, norm=norm, act=act))
        layers.append(ConvNormAct(mid, mid, kernel, stride, norm=norm, act=act, groups=mid))
        if se > 0:
            layers.append(SqueezeExcite(mid, max(1, round(se * mid / expansion))))
        if pre:
            layers.append(nn.Conv2d(mid, out_chs, 1))
        else:
            layers.append(ConvNormAct(mid, out_chs, 1, norm=norm, act=None))
        self.branch = nn.Sequential(*layers)
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.branch(x)
