"""Patch embedding: a kxk stride-k conv (ViT, ConvNeXt), optionally with ViT's tokens."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from search_space.component import Size, Stem, strided_size
from search_space.layers.norms import make_norm
from search_space.options import Option, norm_eps_option, norm_option
from search_space.registry import register_stem


@register_stem("patchify")
class PatchifyStem(Stem):
    """A patch x patch stride-patch conv and a norm; optionally ViT's class token.

    (N, C, H, W) -> (N, width, ceil(H / patch), ceil(W / patch)).

    Sizes that are not a multiple of the patch are zero-padded at the bottom and right.
    ``kernel`` larger than the patch makes overlapping patches (PoolFormer: 7x7 stride
    4, padding (kernel - patch + 1) // 2 on every side; the output is then
    floor((H + 2 padding - kernel) / patch) + 1).
    ``class_token: true`` emits ViT's token sequence (N, 1 + h*w, width), class token
    first. ``pos_embed: learned`` adds a learned position embedding, stored per token
    (N, T, width) as ViT does: to every token (197 of them for ViT-S/16 at 224), or to
    every pixel of the map when there is no class token. It is sized for the built
    resolution.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "patch": Option(int, 4, "patch size = stride of the conv", minimum=1),
        "kernel": Option(
            int,
            None,
            "conv kernel; null = patch (no overlap, sizes padded up to a multiple of the patch "
            "at the bottom/right); a larger kernel pads (kernel - patch + 1) // 2 on every "
            "side (PoolFormer's 7 with patch 4: 2)",
            minimum=1,
            nullable=True,
        ),
        "norm": norm_option("none"),
        "norm_eps": norm_eps_option(
            "; timm's Swin uses 1e-5 on every norm (set it on the stem, stages and head)"
        ),
        "class_token": Option(bool, False, "prepend a learned class token (ViT)"),
        "pos_embed": Option(
            str,
            "none",
            "learned: one embedding per token, the class token included (197 for ViT-S/16 at "
            "224), or per pixel without a class token; sized for the input resolution",
            choices=("none", "learned"),
        ),
    }

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        *,
        input_size: Size,
        patch: int,
        kernel: int | None,
        norm: str,
        norm_eps: float | None,
        class_token: bool,
        pos_embed: str,
    ):
        super().__init__()
        self.patch = patch
        kernel = kernel or patch
        self.overlap = kernel != patch
        padding = (kernel - patch + 1) // 2 if self.overlap else 0
        self.proj = nn.Conv2d(in_chs, out_chs, kernel, patch, padding)
        self.norm = make_norm(norm, out_chs, eps=norm_eps)
        self.class_token = nn.Parameter(torch.zeros(1, 1, out_chs)) if class_token else None
        h, w = self.output_size(input_size, {"patch": patch, "kernel": kernel})
        shape = (1, int(class_token) + h * w, out_chs)  # token-major, as ViT stores it
        self.pos_embed = nn.Parameter(torch.zeros(shape)) if pos_embed == "learned" else None
        if self.pos_embed is not None:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)

    @classmethod
    def output_size(cls, input_size: Size, options: dict[str, Any]) -> Size:
        patch, kernel = options["patch"], options.get("kernel") or options["patch"]
        if kernel == patch:
            return strided_size(input_size, patch)
        padding = (kernel - patch + 1) // 2
        return tuple((s + 2 * padding - kernel) // patch + 1 for s in input_size)  # type: ignore[return-value]

    @classmethod
    def emits_tokens(cls, options: dict[str, Any]) -> bool:
        return bool(options["class_token"])

    @classmethod
    def check(cls, *, out_chs: int, input_size: Size, options: dict[str, Any]) -> list[str]:
        patch, kernel = options["patch"], options.get("kernel")
        if kernel is not None and kernel < patch:  # the padding would be negative
            return [
                f"kernel: {kernel} is smaller than patch {patch}, so pixels between patches "
                "would be skipped; use null (= patch) or a kernel of at least the patch"
            ]
        size = cls.output_size(input_size, options)
        if min(size) < 1:
            return [f"kernel: {kernel} is larger than the padded input"]
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.patch, -w % self.patch  # up to a multiple of the patch
        if (pad_h or pad_w) and not self.overlap:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        x = self.norm(self.proj(x))  # (N, width, h, w)
        if self.class_token is not None:
            x = x.flatten(2).transpose(1, 2)  # (N, width, h, w) -> (N, h*w, width)
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
            return x if self.pos_embed is None else x + self.pos_embed
        if self.pos_embed is None:
            return x
        _, c, h, w = x.shape
        return x + self.pos_embed.transpose(1, 2).reshape(1, c, h, w)  # (1, T, C) -> map
