"""timm ResNet / ResNeXt (resnet.py), RegNet (regnet.py) and BiT ResNetV2 (resnetv2.py)
names -> ours, for any depths and any number of stages."""

from __future__ import annotations

from collections.abc import Sequence

from search_space.architecture import Architecture
from search_space.timm_names.rules import Rules, stage_rules

_SHORTCUT = [(r"(stages\.\d+\.\d+\.)downsample\.", r"\1shortcut.")]

_BASIC = [
    (r"(stages\.\d+\.\d+\.)conv(\d)\.", r"\1conv\2.0."),
    (r"(stages\.\d+\.\d+\.)bn(\d)\.", r"\1conv\2.1."),
]

# Bottleneck branch slots: 0 reduce, 1 kxk, 2 squeeze-excite, 3 expand.
_BOTTLENECK = [
    (r"(stages\.\d+\.\d+\.)conv1\.", r"\1branch.0.0."),
    (r"(stages\.\d+\.\d+\.)bn1\.", r"\1branch.0.1."),
    (r"(stages\.\d+\.\d+\.)conv2\.", r"\1branch.1.0."),
    (r"(stages\.\d+\.\d+\.)bn2\.", r"\1branch.1.1."),
    (r"(stages\.\d+\.\d+\.)conv3\.", r"\1branch.3.0."),
    (r"(stages\.\d+\.\d+\.)bn3\.", r"\1branch.3.1."),
]


def resnet(arch: Architecture, keys: Sequence[str]) -> Rules:
    """ResNet (basic blocks) or ResNet/ResNeXt (bottlenecks): layer1.. -> stages.0.."""
    blocks = _BASIC if arch.stages[0].block == "resnet" else _BOTTLENECK
    return [
        (r"conv1\.", "stem.layers.0."),
        (r"bn1\.", "stem.layers.1."),
        (r"fc\.", "head.fc."),
        *stage_rules("layer", "stages.", len(arch.stages), start=1),
        *_SHORTCUT,
        *blocks,
    ]


def regnet(arch: Architecture, keys: Sequence[str]) -> Rules:
    """RegNetX/Y: s1.b1. -> stages.0.0.; the SE (RegNetY) sits between kxk and expand."""
    return [
        (r"stem\.conv\.", "stem.layers.0."),
        (r"stem\.bn\.", "stem.layers.1."),
        (r"s(\d+)\.b(\d+)\.", lambda m: f"stages.{int(m[1]) - 1}.{int(m[2]) - 1}."),
        (r"(stages\.\d+\.\d+\.)conv(\d)\.conv\.", lambda m: f"{m[1]}branch.{_slot(m[2])}.0."),
        (r"(stages\.\d+\.\d+\.)conv(\d)\.bn\.", lambda m: f"{m[1]}branch.{_slot(m[2])}.1."),
        (r"(stages\.\d+\.\d+\.)se\.fc1\.", r"\1branch.2.reduce."),
        (r"(stages\.\d+\.\d+\.)se\.fc2\.", r"\1branch.2.expand."),
        (r"(stages\.\d+\.\d+\.)downsample\.conv\.", r"\1shortcut.0."),
        (r"(stages\.\d+\.\d+\.)downsample\.bn\.", r"\1shortcut.1."),
        (r"head\.fc\.", "head.fc."),
    ]


def _slot(conv: str) -> int:
    return {"1": 0, "2": 1, "3": 3}[conv]


# BiT: the final pre-activation norm lives in our head, before pooling.
_BIT = [
    (r"stem\.conv\.", "stem.layers.0."),
    (r"stages\.(\d+)\.blocks\.", r"stages.\1."),
    (r"(stages\.\d+\.\d+\.)downsample\.conv\.", r"\1downsample.1."),
    (r"(stages\.\d+\.\d+\.norm\d)\.", r"\1.0."),
    (r"norm\.", "head.before_pool.0."),
    (r"head\.fc\.", "head.fc."),
]


def bit(arch: Architecture, keys: Sequence[str]) -> Rules:
    return _BIT
