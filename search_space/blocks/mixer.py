"""MLP-Mixer block (Tolstikhin et al. 2021): token-mixing MLP, then channel-mixing MLP."""

from __future__ import annotations

from typing import ClassVar

import torch

from search_space.component import Block, Size, strided_size
from search_space.layers.drop_path import DropPath
from search_space.layers.mlp import Mlp, hidden_width
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_shortcut
from search_space.options import Option, act_option, norm_option
from search_space.registry import register_block


@register_block("mixer")
class MixerBlock(Block):
    """Token-mixing MLP across the H*W positions, then channel-mixing MLP, each residual.

    The token MLP has round(token_ratio * width) hidden units: the paper's sizes are
    a fraction of the width (Mixer-B/16: 384 for width 768, ratio 0.5), not of the
    token count. Its weights are sized for H*W tokens, so a mixer runs only at the
    resolution it was built for. With a stride or a width change the input is first
    projected by the stage's shortcut layer, and both residuals run at the new shape.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "norm": norm_option("layer"),
        "act": act_option("gelu"),
        "token_ratio": Option(float, 0.5, "token-mixing hidden width / width", minimum=0.0625),
        "mlp_ratio": Option(float, 4.0, "channel-mixing hidden width / width", minimum=0.0625),
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
        norm: str,
        act: str,
        token_ratio: float,
        mlp_ratio: float,
    ):
        super().__init__()
        height, width = strided_size(input_size, stride)
        tokens = height * width
        self.project = make_shortcut(in_chs, out_chs, stride, shortcut, norm)
        self.norm1 = make_norm(norm, out_chs, "channels_last")
        self.token_mlp = Mlp(tokens, hidden_width(out_chs, token_ratio), tokens, act)
        self.norm2 = make_norm(norm, out_chs, "channels_last")
        self.channel_mlp = Mlp(out_chs, hidden_width(out_chs, mlp_ratio), out_chs, act)
        self.drop_path1, self.drop_path2 = DropPath(), DropPath()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(x)  # (N, C, H, W) at the output shape
        n, c, h, w = x.shape
        x = x.permute(0, 2, 3, 1).reshape(n, h * w, c)  # (N, C, H, W) -> (N, T, C)
        mixed = self.token_mlp(self.norm1(x).transpose(1, 2))  # (N, C, T): mix along T
        x = x + self.drop_path1(mixed.transpose(1, 2))
        x = x + self.drop_path2(self.channel_mlp(self.norm2(x)))
        return x.transpose(1, 2).reshape(n, c, h, w)  # (N, T, C) -> (N, C, H, W)
