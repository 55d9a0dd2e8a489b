"""A stack of 3x3 convs, the first strided (CoAtNet, most small CNNs)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.component import Size, Stem, strided_size
from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm
from search_space.options import ACTS, Option, norm_option
from search_space.registry import register_stem


@register_stem("conv")
class ConvStem(Stem):
    """`depth` 3x3 convs to `width`, the first with `stride`, each followed by norm and act.

    ``final_norm: false`` leaves the last conv bare (CoAtNet's stem).
    ``hidden_width`` sets the width of every conv but the last, which gives ``width``
    (timm's CoAtNet RW stems: 32 then 64).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "depth": Option(int, 1, "number of 3x3 convs", minimum=1),
        "stride": Option(int, 2, "stride of the first conv", minimum=1),
        "norm": norm_option("batch"),
        "act": Option(
            str,
            "relu",
            "activation function; none: the norm alone (NB201)",
            choices=(*ACTS, "none"),
        ),
        "bias": Option(bool, False, "bias on the convs"),
        "final_norm": Option(bool, True, "norm and act after the last conv"),
        "hidden_width": Option(
            int,
            None,
            "width of every conv but the last (which gives width); null = width",
            minimum=1,
            nullable=True,
        ),
    }

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        *,
        input_size: Size,
        depth: int,
        stride: int,
        norm: str,
        act: str,
        bias: bool,
        final_norm: bool,
        hidden_width: int | None,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        widths = [hidden_width or out_chs] * (depth - 1) + [out_chs]
        for i, width in enumerate(widths):
            source = in_chs if i == 0 else widths[i - 1]
            layers.append(nn.Conv2d(source, width, 3, stride if i == 0 else 1, 1, bias=bias))
            if i < depth - 1 or final_norm:
                layers += [make_norm(norm, width), make_act(act)]
        self.layers = nn.Sequential(*layers)

    @classmethod
    def output_size(cls, input_size: Size, options: dict[str, Any]) -> Size:
        return strided_size(input_size, options["stride"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
