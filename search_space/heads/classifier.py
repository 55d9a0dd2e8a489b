"""Pool, optional norm and pre-logits, dropout, linear classifier."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.component import Head
from search_space.errors import SpaceError
from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm
from search_space.options import Option, norm_option
from search_space.registry import register_head


@register_head("classifier")
class ClassifierHead(Head):
    """Pool (average or class token), optional norm and pre-logits, dropout, linear.

    (N, C, H, W) or tokens (N, T, C) -> (N, num_classes).

    ``pool: avg`` averages the map, or the tokens after the class token;
    ``pool: token`` takes the class token (ViT; needs a class-token stem). The norm
    acts on the pooled features, which for LayerNorm equals ViT's norm-then-select.
    ``pre_logits: D`` adds Linear(C, D) + tanh before the classifier (CoAtNet).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "pool": Option(str, "avg", "how features become one vector", choices=("avg", "token")),
        "norm": norm_option("none"),
        "pre_logits": Option(
            int, 0, "width of a Linear + tanh before the classifier; 0 = none", minimum=0
        ),
        "dropout": Option(float, 0.0, "dropout before the classifier", minimum=0, maximum=1),
    }

    def __init__(
        self,
        in_chs: int,
        num_classes: int,
        *,
        pool: str,
        norm: str,
        pre_logits: int,
        dropout: float,
    ):
        super().__init__()
        self.pool = pool
        self.norm = make_norm(norm, in_chs, "channels_last")
        self.pre_logits = (
            nn.Sequential(nn.Linear(in_chs, pre_logits), make_act("tanh"))
            if pre_logits
            else nn.Identity()
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(pre_logits or in_chs, num_classes)

    @classmethod
    def check(cls, *, tokens: bool, options: dict[str, Any]) -> list[str]:
        """Problems with pooling; `tokens` is whether the features are a token sequence."""
        if options["pool"] == "token" and not tokens:
            return ["pool 'token' needs a stem with class_token: true"]
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            if self.pool == "token":
                raise SpaceError(self.check(tokens=False, options={"pool": "token"}))
            x = x.mean((2, 3))  # (N, C, H, W) -> (N, C)
        else:
            x = x[:, 0] if self.pool == "token" else x[:, 1:].mean(1)  # (N, T, C) -> (N, C)
        return self.fc(self.dropout(self.pre_logits(self.norm(x))))
