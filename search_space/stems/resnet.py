"""ResNet's stem: 7x7 stride-2 conv, norm, act, 3x3 stride-2 max pool."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from search_space.component import Size, Stem, strided_size
from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm
from search_space.layers.std_conv import make_conv
from search_space.options import ACTS, Option, norm_option
from search_space.registry import register_stem


class ZeroPadMaxPool(nn.Module):
    """3x3 stride-2 max pool over a map padded by one row/column of zeros (BiT's stem)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)


@register_stem("resnet")
class ResNetStem(Stem):
    """7x7 stride-2 conv, norm, act, 3x3 stride-2 max pool: (N, C, H, W) -> (N, width, H/4, W/4).

    A pre-activation network (BiT) has neither norm nor act here (``norm: none,
    act: none``), a weight-standardized conv and zero padding before the max pool.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "norm": norm_option("batch"),
        "act": Option(str, "relu", "activation after the norm", choices=(*ACTS, "none")),
        "bias": Option(bool, None, "bias on the conv; null = only without a norm", nullable=True),
        "weight_std": Option(bool, False, "standardize the conv's weights (BiT)"),
        "pool_pad": Option(
            str, "ignore", "max-pool padding: ignored, or zeros (BiT)", choices=("ignore", "zero")
        ),
    }

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        *,
        input_size: Size,
        norm: str,
        act: str,
        bias: bool | None,
        weight_std: bool,
        pool_pad: str,
    ):
        super().__init__()
        bias = norm == "none" if bias is None else bias
        self.layers = nn.Sequential(
            make_conv(in_chs, out_chs, 7, 2, bias=bias, weight_std=weight_std),
            make_norm(norm, out_chs),
            make_act(act),
            nn.MaxPool2d(3, 2, 1) if pool_pad == "ignore" else ZeroPadMaxPool(),
        )

    @classmethod
    def output_size(cls, input_size: Size, options: dict[str, Any]) -> Size:
        return strided_size(strided_size(input_size, 2), 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
