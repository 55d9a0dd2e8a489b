"""CaiT's head: a class token joins after the patch stages and gathers them by class attention."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.component import Head
from search_space.errors import SpaceError
from search_space.layers.class_attention import ClassAttentionBlock
from search_space.layers.norms import make_norm
from search_space.options import Option, act_option, norm_eps_option, norm_option
from search_space.registry import register_head


@register_head("class_attention")
class ClassAttentionHead(Head):
    """Class token, ``depth`` class-attention blocks, norm, the class token -> linear.

    (N, C, H, W) maps or (N, T, C) tokens -> (N, num_classes). The patch tokens are
    not updated here (CaiT's "class-attention stage", two blocks in every CaiT); each
    block has layer scale and its two residual branches, like the patch blocks.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "depth": Option(int, 2, "class-attention blocks", minimum=1),
        "heads": Option(int, 4, "attention heads; the width must divide by it", minimum=1),
        "mlp_ratio": Option(float, 4.0, "MLP hidden width / width", minimum=0.0625),
        "qkv_bias": Option(bool, True, "bias on the query, key and value projections"),
        "layer_scale": Option(float, 1e-5, "layer scale init; 0 turns it off", minimum=0),
        "norm": norm_option("layer"),
        "norm_eps": norm_eps_option(),
        "act": act_option("gelu"),
        "dropout": Option(float, 0.0, "dropout before the classifier", minimum=0, maximum=1),
    }

    def __init__(self, in_chs: int, num_classes: int, **options: Any):
        super().__init__()
        problems = self.check(in_chs=in_chs, tokens=False, options=options)
        if problems:  # validation refuses these first; this guards a model built by hand
            raise SpaceError([f"head.{problem}" for problem in problems])
        self.class_token = nn.Parameter(torch.zeros(1, 1, in_chs))
        nn.init.trunc_normal_(self.class_token, std=0.02)
        self.blocks = nn.ModuleList(
            ClassAttentionBlock(in_chs, options["heads"], options) for _ in range(options["depth"])
        )
        self.norm = make_norm(options["norm"], in_chs, "channels_last", options["norm_eps"])
        self.dropout = nn.Dropout(options["dropout"])
        self.fc = nn.Linear(in_chs, num_classes)

    @classmethod
    def check(cls, *, in_chs: int, tokens: bool, options: dict[str, Any]) -> list[str]:
        """The class token is `in_chs` wide (the last stage's width) and split into heads."""
        heads = options["heads"]
        if in_chs % heads:
            return [
                f"heads: {heads} does not divide the last stage's width {in_chs}; "
                "choose heads that divide every width that stage may take"
            ]
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.flatten(2).transpose(1, 2)  # (N, C, H, W) -> (N, H*W, C)
        cls = self.class_token.expand(x.shape[0], -1, -1)
        for block in self.blocks:
            cls = block(cls, x)
        # LayerNorm is per token, so normalizing only the class token equals CaiT's
        # norm over [cls, x] followed by taking the class token.
        return self.fc(self.dropout(self.norm(cls[:, 0])))
