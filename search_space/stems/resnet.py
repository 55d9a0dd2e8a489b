"""ResNet's stem: 7x7 stride-2 conv, norm, act, 3x3 stride-2 max pool."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.component import Size, Stem, strided_size
from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm
from search_space.options import Option, act_option, norm_option
from search_space.registry import register_stem


@register_stem("resnet")
class ResNetStem(Stem):
    """7x7 stride-2 conv, norm, act, 3x3 stride-2 max pool: (N, C, H, W) -> (N, width, H/4, W/4)."""

    OPTIONS: ClassVar[dict[str, Option]] = {"norm": norm_option("batch"), "act": act_option("relu")}

    def __init__(self, in_chs: int, out_chs: int, *, input_size: Size, norm: str, act: str):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_chs, out_chs, 7, 2, 3, bias=norm == "none"),
            make_norm(norm, out_chs),
            make_act(act),
            nn.MaxPool2d(3, 2, 1),
        )

    @classmethod
    def output_size(cls, input_size: Size, options: dict[str, Any]) -> Size:
        return strided_size(strided_size(input_size, 2), 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
