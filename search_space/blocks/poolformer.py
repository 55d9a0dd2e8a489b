"""PoolFormer block (Yu et al. 2022): a MetaFormer whose token mixer is average pooling."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.drop_path import DropPath
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_shortcut
from search_space.options import Option, act_option, norm_eps_option, norm_option
from search_space.registry import register_block


class PoolMixer(nn.Module):
    """pool(x) - x: a kxk stride-1 average (padding not counted) minus the input."""

    def __init__(self, kernel: int):
        super().__init__()
        self.pool = nn.AvgPool2d(kernel, 1, kernel // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) - x


class ChannelScale(nn.Module):
    """Layer scale of an (N, C, H, W) map: a learned per-channel factor."""

    def __init__(self, channels: int, init: float):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale[:, None, None]  # (N, C, H, W) * (C, 1, 1)


@register_block("poolformer")
class PoolFormerBlock(Block):
    """x + scale(pool(norm(x)) - norm(x)), then x + scale(MLP(norm(x))), channels-first.

    The MLP is two 1x1 convs with ``mlp_ratio`` x width hidden units. PoolFormer uses
    ``norm: group1`` (statistics over channels and positions) and layer scale 1e-5.
    With a stride or a width change the input goes through the stage's shortcut
    first (PoolFormer itself downsamples with a ``conv`` stage transition).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "pool": Option(int, 3, "average-pool size of the token mixer", minimum=1, odd=True),
        "mlp_ratio": Option(float, 4.0, "MLP hidden width / width", minimum=0.0625),
        "norm": norm_option("group1"),
        "norm_eps": norm_eps_option(),
        "act": act_option("gelu"),
        "layer_scale": Option(float, 1e-5, "layer scale init; 0 turns it off", minimum=0),
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
        pool: int,
        mlp_ratio: float,
        norm: str,
        norm_eps: float | None,
        act: str,
        layer_scale: float,
    ):
        super().__init__()
        hidden = max(1, round(mlp_ratio * out_chs))
        self.project = make_shortcut(in_chs, out_chs, stride, shortcut, norm)
        self.norm1 = make_norm(norm, out_chs, eps=norm_eps)
        self.mixer = PoolMixer(pool)
        self.scale1 = _scale(out_chs, layer_scale)
        self.norm2 = make_norm(norm, out_chs, eps=norm_eps)
        self.mlp = nn.Sequential(
            nn.Conv2d(out_chs, hidden, 1), make_act(act), nn.Conv2d(hidden, out_chs, 1)
        )
        self.scale2 = _scale(out_chs, layer_scale)
        self.drop_path1, self.drop_path2 = DropPath(), DropPath()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(x)  # (N, C, H, W) at the output shape
        x = x + self.drop_path1(self.scale1(self.mixer(self.norm1(x))))
        return x + self.drop_path2(self.scale2(self.mlp(self.norm2(x))))


def _scale(channels: int, init: float) -> nn.Module:
    return ChannelScale(channels, init) if init > 0 else nn.Identity()
