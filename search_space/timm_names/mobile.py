"""timm EfficientNet / MobileNetV3 (efficientnet.py, mobilenetv3.py) names -> ours.

timm groups the blocks by the paper's stages; a zoo file may split a stage where the
expansion changes, so blocks are matched in order (see `flat_block_rules`).
"""

from __future__ import annotations

from collections.abc import Sequence

from search_space.timm_names.rules import flat_block_rules

# Our slots: mbconv branch 0 input norm, 1 expand, 2 depthwise, 3 SE, 4 project;
# fused_mbconv branch 0 kxk, 1 SE, 2 project; conv block `conv`.
_INVERTED = [
    (r"(stages\.\d+\.\d+\.)conv_pw\.", r"\1branch.1.0."),
    (r"(stages\.\d+\.\d+\.)bn1\.", r"\1branch.1.1."),
    (r"(stages\.\d+\.\d+\.)conv_dw\.", r"\1branch.2.0."),
    (r"(stages\.\d+\.\d+\.)bn2\.", r"\1branch.2.1."),
    (r"(stages\.\d+\.\d+\.)se\.conv_reduce\.", r"\1branch.3.reduce."),
    (r"(stages\.\d+\.\d+\.)se\.conv_expand\.", r"\1branch.3.expand."),
    (r"(stages\.\d+\.\d+\.)conv_pwl\.", r"\1branch.4.0."),
    (r"(stages\.\d+\.\d+\.)bn3\.", r"\1branch.4.1."),
]
# timm's DepthwiseSeparableConv (expansion 1): conv_dw, bn1, se, conv_pw, bn2.
_SEPARABLE = [
    (r"(stages\.0\.0\.)conv_dw\.", r"\1branch.2.0."),
    (r"(stages\.0\.0\.)bn1\.", r"\1branch.2.1."),
    (r"(stages\.0\.0\.)conv_pw\.", r"\1branch.4.0."),
    (r"(stages\.0\.0\.)bn2\.", r"\1branch.4.1."),
]
_FUSED = [
    (r"(stages\.\d+\.\d+\.)conv_exp\.", r"\1branch.0.0."),
    (r"(stages\.\d+\.\d+\.)bn1\.", r"\1branch.0.1."),
    (r"(stages\.\d+\.\d+\.)se\.conv_reduce\.", r"\1branch.1.reduce."),
    (r"(stages\.\d+\.\d+\.)se\.conv_expand\.", r"\1branch.1.expand."),
    (r"(stages\.\d+\.\d+\.)conv_pwl\.", r"\1branch.2.0."),
    (r"(stages\.\d+\.\d+\.)bn2\.", r"\1branch.2.1."),
]
_STEM = [(r"conv_stem\.", "stem.layers.0."), (r"bn1\.", "stem.layers.1.")]


def mobilenetv3(ours: Sequence[int]) -> list:
    """timm's last block (1x1 conv to 960) is our head's conv; conv_head our pre-logits."""
    return [
        *_STEM,
        (r"blocks\.6\.0\.conv\.", "head.before_pool.0."),
        (r"blocks\.6\.0\.bn1\.", "head.before_pool.1."),
        (r"conv_head\.", "head.pre_logits.0."),
        (r"classifier\.", "head.fc."),
        *flat_block_rules("blocks.", [1, 2, 3, 4, 2, 3], ours),
        *_SEPARABLE,
        *_INVERTED,
    ]


def efficientnetv2_rw_t(ours: Sequence[int]) -> list:
    """Stage 0 is ConvBnAct (our conv block), 1-2 EdgeResidual, 3-5 InvertedResidual."""
    fused = [(p.replace(r"(stages\.\d+", r"(stages\.[12]"), r) for p, r in _FUSED]
    return [
        *_STEM,
        (r"conv_head\.", "head.before_pool.0."),
        (r"bn2\.", "head.before_pool.1."),
        (r"classifier\.", "head.fc."),
        *flat_block_rules("blocks.", [2, 4, 4, 6, 9, 14], ours),
        (r"(stages\.0\.\d+\.)conv\.", r"\1conv.0."),
        (r"(stages\.0\.\d+\.)bn1\.", r"\1conv.1."),
        *fused,
        *_INVERTED,
    ]
