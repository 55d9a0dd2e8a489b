"""Pre-norm transformer block: ViT, Swin (windows, shift) and CoAtNet (relative bias, pooling)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.component import Block, Size, strided_size
from search_space.errors import SpaceError
from search_space.layers.attention import WindowAttention, window_shape
from search_space.layers.drop_path import DropPath
from search_space.layers.mlp import Mlp, hidden_width, make_layer_scale
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_pool, make_shortcut, shortcut_bias_option
from search_space.options import Option, act_option, norm_eps_option, norm_option
from search_space.registry import register_block


def head_count(out_chs: int, heads: int | None, head_dim: int | None) -> int:
    """`heads` when set, else out_chs // head_dim (`heads` takes precedence)."""
    return heads if heads is not None else out_chs // (head_dim or out_chs)


@register_block("attention")
class AttentionBlock(Block):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x)).

    Accepts (N, C, H, W) maps and (N, T, C) token sequences.

    Heads: ``heads`` wins when set; otherwise width // ``head_dim``, where the width
    is the one attention runs at: a block that widens (its stage's first) widens in
    its qkv projection by default (``widen: qkv``, CoAtNet), so q, k, v and the heads
    follow the output width; ``widen: proj`` keeps them at the input width and widens
    in the output projection (timm's CoAtNet RW models, ``expand_first=False``).
    With a stride, the attention path average-pools after norm1 and the residual
    goes through the stage's shortcut (CoAtNet's downsampling transformer block).
    ``window: null`` is global attention; an int is Swin's local windows (clipped
    to the map), with ``shift`` shifting them by half a window in odd blocks.
    ``talking_heads`` mixes the heads' attention logits with a learned heads x heads
    map before and after the softmax (CaiT's Talking-Heads attention).
    A token input (N, T, C) from a class-token stem needs stride 1, no window and
    no relative bias (see `token_problems`).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "norm": norm_option("layer"),
        "act": act_option("gelu"),
        "heads": Option(int, None, "attention heads; wins over head_dim", minimum=1, nullable=True),
        "head_dim": Option(
            int, 32, "channels per head when heads is null", minimum=1, nullable=True
        ),
        "mlp_ratio": Option(float, 4.0, "MLP hidden width / width", minimum=0.0625),
        "qkv_bias": Option(bool, True, "bias on the query, key and value projection"),
        "rel_pos": Option(str, "none", "relative position bias", choices=("none", "bias")),
        "window": Option(int, None, "window size; null = global", minimum=1, nullable=True),
        "shift": Option(bool, False, "shift the windows in odd blocks (Swin)"),
        "layer_scale": Option(float, 0.0, "layer scale init; 0 turns it off", minimum=0),
        "talking_heads": Option(bool, False, "mix the heads' logits before/after softmax (CaiT)"),
        "norm_eps": norm_eps_option(
            "; timm's Swin uses 1e-5 on every norm (set it on the stem, stages and head)"
        ),
        "widen": Option(
            str,
            "qkv",
            "where a widening block changes width: the qkv projection (heads from the "
            "output width) or the output projection (heads from the input width; CoAtNet RW)",
            choices=("qkv", "proj"),
        ),
        "shortcut_bias": shortcut_bias_option(),
    }
    CHECK_KEYS = ("heads", "head_dim", "window", "widen")
    TOKENS_OK = True

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
        heads: int | None,
        head_dim: int | None,
        mlp_ratio: float,
        qkv_bias: bool,
        rel_pos: str,
        window: int | None,
        shift: bool,
        layer_scale: float,
        talking_heads: bool,
        norm_eps: float | None,
        widen: str,
        shortcut_bias: bool,
    ):
        super().__init__()
        options = {"heads": heads, "head_dim": head_dim, "window": window, "widen": widen}
        problems = self.check(
            in_chs=in_chs, out_chs=out_chs, stride=stride, input_size=input_size, options=options
        )
        if problems:
            raise SpaceError(problems)
        self.token_issues = self.token_problems(
            stride=stride, options={"window": window, "rel_pos": rel_pos}
        )
        self.shortcut = make_shortcut(in_chs, out_chs, stride, shortcut, norm, bias=shortcut_bias)
        inner = in_chs if widen == "proj" else out_chs
        self.norm1 = make_norm(norm, in_chs, "channels_last", norm_eps)
        self.pool = make_pool(stride)
        self.attn = WindowAttention(
            in_chs,
            out_chs,
            head_count(inner, heads, head_dim),
            strided_size(input_size, stride),
            window=window,
            shift=shift and index % 2 == 1,
            qkv_bias=qkv_bias,
            rel_pos=rel_pos == "bias",
            talking_heads=talking_heads,
            inner_chs=inner,
        )
        self.scale1 = make_layer_scale(out_chs, layer_scale)
        self.norm2 = make_norm(norm, out_chs, "channels_last", norm_eps)
        self.mlp = Mlp(out_chs, hidden_width(out_chs, mlp_ratio), out_chs, act)
        self.scale2 = make_layer_scale(out_chs, layer_scale)
        self.drop_path1, self.drop_path2 = DropPath(), DropPath()

    @classmethod
    def check(
        cls, *, in_chs: int, out_chs: int, stride: int, input_size: Size, options: dict[str, Any]
    ) -> list[str]:
        keys = cls.CHECK_KEYS
        heads, head_dim, window, widen = (options.get(k, cls.OPTIONS[k].default) for k in keys)
        width = in_chs if widen == "proj" else out_chs  # the width attention runs at
        problems = []
        if heads is not None and width % heads:
            problems.append(f"width {width} is not divisible by heads {heads}")
        elif heads is None and head_dim is None:
            problems.append("set heads or head_dim")
        elif heads is None and width % head_dim:
            problems.append(f"width {width} is not divisible by head_dim {head_dim}")
        size = strided_size(input_size, stride)
        shape = window_shape(size, window)
        if size[0] % shape[0] or size[1] % shape[1]:
            problems.append(f"window {window} does not divide the {size[0]}x{size[1]} feature map")
        return problems

    @classmethod
    def token_problems(cls, *, stride: int, options: dict[str, Any]) -> list[str]:
        """Problems when the input is a token sequence (after a class-token stem)."""
        needs = {
            "stride > 1": stride > 1,
            "a window": options.get("window") is not None,
            "rel_pos bias": options.get("rel_pos") == "bias",
        }
        return [
            f"{what} needs a feature map, but the stem emits tokens (class_token)"
            for what, present in needs.items()
            if present
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.dim() == 3
        if tokens and self.token_issues:
            raise SpaceError(self.token_issues)
        x = x.unsqueeze(2) if tokens else x.permute(0, 2, 3, 1)  # -> (N, T, 1, C) or (N, H, W, C)
        x = self._shortcut(x) + self.drop_path1(self.scale1(self.attn(self._pool(self.norm1(x)))))
        x = x + self.drop_path2(self.scale2(self.mlp(self.norm2(x))))
        return x.squeeze(2) if tokens else x.permute(0, 3, 1, 2)  # back to the input's layout

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.shortcut, nn.Identity):
            return x
        return self.shortcut(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)  # it is channels-first

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.pool, nn.Identity):
            return x
        return self.pool(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
