"""timm ResNet / ResNeXt (resnet.py) and BiT ResNetV2 (resnetv2.py) names -> ours."""

from __future__ import annotations

from search_space.timm_names.rules import stage_rules

_STEM_AND_HEAD = [
    (r"conv1\.", "stem.layers.0."),
    (r"bn1\.", "stem.layers.1."),
    (r"fc\.", "head.fc."),
]
_SHORTCUT = [(r"(stages\.\d+\.\d+\.)downsample\.", r"\1shortcut.")]

BASIC = [
    *_STEM_AND_HEAD,
    *stage_rules("layer", "stages.", 4, start=1),
    *_SHORTCUT,
    (r"(stages\.\d+\.\d+\.)conv(\d)\.", r"\1conv\2.0."),
    (r"(stages\.\d+\.\d+\.)bn(\d)\.", r"\1conv\2.1."),
]

# Bottleneck branch slots: 0 reduce, 1 kxk, 2 squeeze-excite, 3 expand.
BOTTLENECK = [
    *_STEM_AND_HEAD,
    *stage_rules("layer", "stages.", 4, start=1),
    *_SHORTCUT,
    (r"(stages\.\d+\.\d+\.)conv1\.", r"\1branch.0.0."),
    (r"(stages\.\d+\.\d+\.)bn1\.", r"\1branch.0.1."),
    (r"(stages\.\d+\.\d+\.)conv2\.", r"\1branch.1.0."),
    (r"(stages\.\d+\.\d+\.)bn2\.", r"\1branch.1.1."),
    (r"(stages\.\d+\.\d+\.)conv3\.", r"\1branch.3.0."),
    (r"(stages\.\d+\.\d+\.)bn3\.", r"\1branch.3.1."),
]

# BiT: the final pre-activation norm lives in our head, before pooling.
RESNETV2 = [
    (r"stem\.conv\.", "stem.layers.0."),
    (r"stages\.(\d+)\.blocks\.", r"stages.\1."),
    (r"(stages\.\d+\.\d+\.)downsample\.conv\.", r"\1downsample.1."),
    (r"(stages\.\d+\.\d+\.norm\d)\.", r"\1.0."),
    (r"norm\.", "head.before_pool.0."),
    (r"head\.fc\.", "head.fc."),
]
