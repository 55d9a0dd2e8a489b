"""timm CoAtNet (maxxvit.py) names -> ours.

timm's CoAtNet runs its transformer blocks on (N, C, H, W) maps with 1x1 convs (our
Linears: reshaped on load) and orders the qkv projection head-first, (heads, q|k|v,
head_dim), where ours is (q|k|v, heads, head_dim): the one tensor that is permuted.
"""

from __future__ import annotations

import torch

HEAD_DIM = 32  # coatnet_0: every transformer stage has 32 channels per head

RULES = [
    (r"stem\.conv1\.", "stem.layers.0."),
    (r"stem\.norm1\.", "stem.layers.1."),
    (r"stem\.conv2\.", "stem.layers.3."),
    (r"stages\.(\d+)\.blocks\.", r"stages.\1."),
    (r"(stages\.\d+\.\d+\.)shortcut\.expand\.", r"\1shortcut.1."),
    # MBConv slots: 0 pre-norm, 1 expand, 2 depthwise, 3 squeeze-excite, 4 project.
    (r"(stages\.\d+\.\d+\.)pre_norm\.", r"\1branch.0."),
    (r"(stages\.[01]\.\d+\.)conv1_1x1\.", r"\1branch.1.0."),
    (r"(stages\.[01]\.\d+\.)norm1\.", r"\1branch.1.1."),
    (r"(stages\.[01]\.\d+\.)conv2_kxk\.", r"\1branch.2.0."),
    (r"(stages\.[01]\.\d+\.)norm2\.", r"\1branch.2.1."),
    (r"(stages\.[01]\.\d+\.)se\.fc1\.", r"\1branch.3.reduce."),
    (r"(stages\.[01]\.\d+\.)se\.fc2\.", r"\1branch.3.expand."),
    (r"(stages\.[01]\.\d+\.)conv3_1x1\.", r"\1branch.4."),
    # Transformer blocks.
    (r"(stages\.[23]\.\d+\.norm\d)\.norm\.", r"\1."),
    (r"(stages\.[23]\.\d+\.attn\.rel_pos\.)relative_position_bias_table", r"\1table"),
    (r"(.*)\.mlp\.fc1\.", r"\1.mlp.0."),
    (r"(.*)\.mlp\.fc2\.", r"\1.mlp.2."),
    (r"head\.pre_logits\.fc\.", "head.pre_logits.0."),
]


def qkv_heads_last(value: torch.Tensor) -> torch.Tensor:
    """(heads * 3 * head_dim, ...) head-first rows -> (3 * heads * head_dim, ...) ours."""
    heads = value.shape[0] // (3 * HEAD_DIM)
    rows = value.reshape(heads, 3, HEAD_DIM, *value.shape[1:]).transpose(0, 1)
    return rows.reshape(value.shape)


TRANSFORMS = [(r"stages\.[23]\.\d+\.attn\.qkv\.(weight|bias)$", qkv_heads_last)]
