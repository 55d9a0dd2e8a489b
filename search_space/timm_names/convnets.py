"""timm ConvNeXt and PoolFormer (MetaFormer) names -> ours."""

from __future__ import annotations

# A stage with a transition holds it at index 0, so its blocks shift by one.
CONVNEXT = [
    (r"stem\.0\.", "stem.proj."),
    (r"stem\.1\.", "stem.norm."),
    (r"stages\.(\d+)\.downsample\.0\.", r"stages.\1.0.norm."),
    (r"stages\.(\d+)\.downsample\.1\.", r"stages.\1.0.conv."),
    (r"stages\.(\d+)\.blocks\.(\d+)\.", lambda m: f"stages.{m[1]}.{int(m[2]) + (m[1] != '0')}."),
    (r"(stages\.\d+\.\d+\.)conv_dw\.", r"\1depthwise."),
    (r"(stages\.\d+\.\d+\.)gamma", r"\1scale.gamma"),
    (r"(.*)\.mlp\.fc1\.", r"\1.mlp.0."),
    (r"(.*)\.mlp\.fc2\.", r"\1.mlp.2."),
    (r"head\.norm\.", "head.norm."),
    (r"head\.fc\.", "head.fc."),
]

POOLFORMER = [
    (r"stem\.conv\.", "stem.proj."),
    (r"stages\.(\d+)\.downsample\.conv\.", r"stages.\1.0.conv."),
    (r"stages\.(\d+)\.blocks\.(\d+)\.", lambda m: f"stages.{m[1]}.{int(m[2]) + (m[1] != '0')}."),
    (r"(.*)\.layer_scale(\d)\.scale", r"\1.scale\2.scale"),
    (r"(.*)\.mlp\.fc1\.", r"\1.mlp.0."),
    (r"(.*)\.mlp\.fc2\.", r"\1.mlp.2."),
]
