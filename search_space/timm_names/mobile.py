"""timm EfficientNet / MobileNetV2 / MobileNetV3 / EfficientNetV2 (efficientnet.py,
mobilenetv3.py) names -> ours, for any depths and widths.

timm groups the blocks by the paper's stages; a YAML file may split a stage where the
expansion changes, so blocks are matched in order: timm's n-th block (counted over its
stages, depths read from the checkpoint) is our n-th block. Each timm block's kind is
read from its keys (timm's block classes name their convs differently).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from search_space.architecture import Architecture
from search_space.timm_names.rules import Rules

_SE = {"se.conv_reduce.": "reduce.", "se.conv_expand.": "expand."}

# timm block kind -> {timm layer: our slot}. Our mbconv slots: 0 input norm, 1 expand,
# 2 depthwise, 3 squeeze-excite, 4 project; fused_mbconv: 0 kxk, 1 SE, 2 project.
_SLOTS: dict[str, dict[str, str]] = {
    "inverted": {  # InvertedResidual: conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3
        "conv_pw.": "branch.1.0.",
        "bn1.": "branch.1.1.",
        "conv_dw.": "branch.2.0.",
        "bn2.": "branch.2.1.",
        **{k: f"branch.3.{v}" for k, v in _SE.items()},
        "conv_pwl.": "branch.4.0.",
        "bn3.": "branch.4.1.",
    },
    "separable": {  # DepthwiseSeparableConv (our mbconv with expansion 1): no expand conv
        "conv_dw.": "branch.2.0.",
        "bn1.": "branch.2.1.",
        **{k: f"branch.3.{v}" for k, v in _SE.items()},
        "conv_pw.": "branch.4.0.",
        "bn2.": "branch.4.1.",
    },
    "fused": {  # EdgeResidual: conv_exp, bn1, se, conv_pwl, bn2
        "conv_exp.": "branch.0.0.",
        "bn1.": "branch.0.1.",
        **{k: f"branch.1.{v}" for k, v in _SE.items()},
        "conv_pwl.": "branch.2.0.",
        "bn2.": "branch.2.1.",
    },
    "conv": {"conv.": "conv.0.", "bn1.": "conv.1."},  # ConvBnAct: our conv block
    "head_conv": {"conv.": "before_pool.0.", "bn1.": "before_pool.1."},  # MobileNetV3's last
}
_BLOCK = re.compile(r"blocks\.(\d+)\.(\d+)\.")


def _kind(layers: set[str]) -> str:
    for layer, kind in (("conv_exp", "fused"), ("conv_pwl", "inverted"), ("conv_dw", "separable")):
        if layer in layers:
            return kind
    return "conv"


def timm_blocks(keys: Sequence[str]) -> dict[str, str]:
    """timm block prefix ('blocks.3.1.') -> its kind, in timm's order."""
    layers: dict[tuple[int, int], set[str]] = {}
    for key in keys:
        match = _BLOCK.match(key)
        if match:
            layer = key[match.end() :].split(".")[0]
            layers.setdefault((int(match[1]), int(match[2])), set()).add(layer)
    return {f"blocks.{s}.{b}.": _kind(layers[(s, b)]) for s, b in sorted(layers)}


def _block_table(arch: Architecture, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """timm block prefix -> (our prefix, kind). A last ConvBnAct block beyond our blocks
    is the 1x1 conv of our head (MobileNetV3 keeps it in `blocks`)."""
    theirs = timm_blocks(keys)
    ours = [f"stages.{k}.{j}." for k, stage in enumerate(arch.stages) for j in range(stage.depth)]
    prefixes = list(theirs)
    table = {}
    if len(prefixes) == len(ours) + 1 and theirs[prefixes[-1]] == "conv":
        table[prefixes.pop()] = ("head.", "head_conv")
    table.update({t: (o, theirs[t]) for t, o in zip(prefixes, ours, strict=False)})
    return table


def efficientnet(arch: Architecture, keys: Sequence[str]) -> Rules:
    """Stem, blocks in order, and a head that is either EfficientNet's (conv_head + bn2
    before pooling) or MobileNetV3's (conv_head with a bias after pooling: pre-logits)."""
    table = _block_table(arch, keys)

    def block(match: re.Match) -> str:
        if match[1] not in table or match[2] not in _SLOTS[table[match[1]][1]]:
            return match[0]  # left as it is: named as unexpected
        ours, kind = table[match[1]]
        return ours + _SLOTS[kind][match[2]]

    mobilenetv3 = "conv_head.bias" in keys and "bn2.weight" not in keys
    head = (
        [(r"conv_head\.", "head.pre_logits.0.")]
        if mobilenetv3
        else [(r"conv_head\.", "head.before_pool.0."), (r"bn2\.", "head.before_pool.1.")]
    )
    return [
        (r"conv_stem\.", "stem.layers.0."),
        (r"bn1\.", "stem.layers.1."),
        *head,
        (r"classifier\.", "head.fc."),
        (r"(blocks\.\d+\.\d+\.)((?:se\.)?[a-z_0-9]+\.)", block),
    ]
