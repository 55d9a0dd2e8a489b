"""Optional conv head, norm (on the map or the pooled vector), pool, pre-logits, linear."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from search_space.component import Head
from search_space.errors import SpaceError
from search_space.layers.acts import make_act
from search_space.layers.conv import ConvNormAct
from search_space.layers.norms import group_count, make_norm
from search_space.options import ACTS, Option, norm_eps_option, norm_option
from search_space.registry import register_head

HEAD_ACTS = (*ACTS, "tanh", "none")


@register_head("classifier")
class ClassifierHead(Head):
    """[1x1 conv, norm, act] -> [norm, act] -> pool -> [norm] -> [pre-logits] -> dropout -> linear.

    (N, C, H, W) or tokens (N, T, C) -> (N, num_classes).

    ``conv: D`` is a 1x1 conv to D channels with norm and act before pooling
    (EfficientNet's 1280 head, MobileNetV3's 960). Without it, ``norm_position: map``
    normalizes every position before pooling, then applies ``act`` (Swin, Mixer,
    BiT's final pre-activation norm); ``pooled`` (default) normalizes the pooled
    vector, which for LayerNorm equals ViT's norm-then-select.
    ``pool: avg`` averages the map, or the tokens after the class token;
    ``pool: token`` takes the class token (ViT; needs a class-token stem).
    ``pre_logits: D`` adds Linear(C, D) + ``pre_logits_act`` after pooling (CoAtNet's
    tanh; MobileNetV3's 1280-wide hard-swish layer).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "conv": Option(
            int, 0, "width of a 1x1 conv + norm + act before pooling; 0 = none", minimum=0
        ),
        "norm": norm_option("none"),
        "norm_eps": norm_eps_option(),
        "norm_position": Option(
            str,
            "pooled",
            "normalize the pooled vector or every position",
            choices=("pooled", "map"),
        ),
        "act": Option(str, "none", "activation after a conv or map norm", choices=HEAD_ACTS),
        "pool": Option(str, "avg", "how features become one vector", choices=("avg", "token")),
        "pre_logits": Option(
            int, 0, "width of a Linear + pre_logits_act before the classifier; 0 = none", minimum=0
        ),
        "pre_logits_act": Option(str, "tanh", "activation of the pre-logits", choices=HEAD_ACTS),
        "dropout": Option(float, 0.0, "dropout before the classifier", minimum=0, maximum=1),
    }

    def __init__(self, in_chs: int, num_classes: int, **options: Any):
        super().__init__()
        self.pool = options["pool"]
        self.before_pool, in_chs = _before_pool(in_chs, options)
        pooled = options["norm_position"] == "pooled" and not options["conv"]
        norm = options["norm"] if pooled else "none"
        self.norm = make_norm(norm, in_chs, "channels_last", options["norm_eps"])
        width = options["pre_logits"]
        self.pre_logits = (
            nn.Sequential(nn.Linear(in_chs, width), make_act(options["pre_logits_act"]))
            if width
            else nn.Identity()
        )
        self.dropout = nn.Dropout(options["dropout"])
        self.fc = nn.Linear(width or in_chs, num_classes)

    @classmethod
    def check(cls, *, in_chs: int, tokens: bool, options: dict[str, Any]) -> list[str]:
        """Problems with pooling; `tokens` is whether the features are a token sequence."""
        problems = []
        if options["pool"] == "token" and not tokens:
            problems.append("pool: 'token' needs a stem with class_token: true")
        if tokens and options["conv"]:
            problems.append(f"conv: {options['conv']} needs a feature map, not class tokens")
        if tokens and options["norm_position"] == "map":
            problems.append("norm_position: 'map' needs a feature map, not class tokens")
        if _single_value_groups(in_chs, options):
            problems.append(
                f"norm: {options['norm']!r} on the pooled {in_chs}-wide vector puts one value "
                "in each group, which normalizes to 0; use layer, or norm_position: map"
            )
        return problems

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            if self.pool == "token":
                raise SpaceError("pool 'token' needs a stem with class_token: true")
            x = self.before_pool(x).mean((2, 3))  # (N, C, H, W) -> (N, C)
        else:
            x = x[:, 0] if self.pool == "token" else x[:, 1:].mean(1)  # (N, T, C) -> (N, C)
        return self.fc(self.dropout(self.pre_logits(self.norm(x))))


def _before_pool(in_chs: int, options: dict[str, Any]) -> tuple[nn.Module, int]:
    """The layers on the (N, C, H, W) map before pooling, and the width they leave."""
    act = None if options["act"] == "none" else options["act"]
    if options["conv"]:
        conv = ConvNormAct(in_chs, options["conv"], 1, norm=options["norm"], act=act)
        return conv, options["conv"]
    if options["norm_position"] == "map":
        norm = make_norm(options["norm"], in_chs, eps=options["norm_eps"])
        return nn.Sequential(norm, make_act(options["act"])), in_chs
    return nn.Identity(), in_chs


def _single_value_groups(in_chs: int, options: dict[str, Any]) -> bool:
    """Group norm of the pooled vector (no conv) with one channel per group."""
    if options["conv"] or options["norm_position"] != "pooled":
        return False
    if options["norm"] not in ("group", "group1"):
        return False
    groups = 1 if options["norm"] == "group1" else group_count(in_chs)
    return in_chs == groups
