"""timm CoAtNet (maxxvit.py) names -> ours, for any depths (coatnet_N and the RW variants).

timm's CoAtNet runs its transformer blocks on (N, C, H, W) maps with 1x1 convs (our
Linears: reshaped on load) and orders the qkv projection head-first, (heads, q|k|v,
head_dim), where ours is (q|k|v, heads, head_dim): the one tensor that is permuted.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from search_space.architecture import Architecture
from search_space.timm_names.rules import Rules


def _stages(arch: Architecture, block: str) -> str:
    """A regex alternative of the stage indices holding `block`, e.g. '[01]'."""
    indices = [str(i) for i, stage in enumerate(arch.stages) if stage.block == block]
    return f"(?:{'|'.join(indices) or 'x'})"


def rules(arch: Architecture, keys: Sequence[str]) -> Rules:
    conv = rf"(stages\.{_stages(arch, 'mbconv')}\.\d+\.)"
    attn = rf"(stages\.{_stages(arch, 'attention')}\.\d+\.)"
    pre_act = any(s.options.get("pre_norm_act") for s in arch.stages if s.block == "mbconv")
    on_map = arch.head.full_options()["norm_position"] == "map"
    head_norm = "head.before_pool.0." if on_map else "head.norm."
    stem_convs = sum(1 for key in keys if key.startswith("stem.conv") and key.endswith("weight"))
    return [
        (r"stem\.conv1\.", "stem.layers.0."),
        (r"stem\.norm1\.", "stem.layers.1."),
        *[(rf"stem\.conv{i + 1}\.", f"stem.layers.{3 * i}.") for i in range(1, stem_convs)],
        *[(rf"stem\.norm{i + 1}\.", f"stem.layers.{3 * i + 1}.") for i in range(1, stem_convs)],
        (r"stages\.(\d+)\.blocks\.", r"stages.\1."),
        (r"(stages\.\d+\.\d+\.)shortcut\.expand\.", r"\1shortcut.1."),
        # MBConv slots: 0 pre-norm, 1 expand, 2 depthwise, 3 squeeze-excite, 4 project.
        (rf"{conv}pre_norm\.", r"\1branch.0.0." if pre_act else r"\1branch.0."),
        (rf"{conv}conv1_1x1\.", r"\1branch.1.0."),
        (rf"{conv}norm1\.", r"\1branch.1.1."),
        (rf"{conv}conv2_kxk\.", r"\1branch.2.0."),
        (rf"{conv}norm2\.", r"\1branch.2.1."),
        (rf"{conv}se(?:_early)?\.fc1\.", r"\1branch.3.reduce."),
        (rf"{conv}se(?:_early)?\.fc2\.", r"\1branch.3.expand."),
        (rf"{conv}conv3_1x1\.", r"\1branch.4."),
        # Transformer blocks.
        (rf"{attn}(norm\d)\.norm\.", r"\1\2."),
        (rf"{attn}attn\.rel_pos\.relative_position_bias_table", r"\1attn.rel_pos.table"),
        (r"(.*)\.mlp\.fc1\.", r"\1.mlp.0."),
        (r"(.*)\.mlp\.fc2\.", r"\1.mlp.2."),
        (r"norm\.", head_norm),  # the RW models' final norm, on the map
        (r"head\.pre_logits\.fc\.", "head.pre_logits.0."),
    ]


def head_dims(arch: Architecture) -> dict[int, int]:
    """Stage index -> channels per head, for the attention stages."""
    dims = {}
    for i, stage in enumerate(arch.stages):
        if stage.block == "attention":
            options = stage.full_options()
            heads = options["heads"]
            dims[i] = stage.width // heads if heads else options["head_dim"]
    return dims


def qkv_heads_last(value: torch.Tensor, head_dim: int) -> torch.Tensor:
    """(heads * 3 * head_dim, ...) head-first rows -> (3 * heads * head_dim, ...) ours."""
    heads = value.shape[0] // (3 * head_dim)
    rows = value.reshape(heads, 3, head_dim, *value.shape[1:]).transpose(0, 1)
    return rows.reshape(value.shape)


def transforms(arch: Architecture) -> list:
    return [
        (
            rf"stages\.{i}\.\d+\.attn\.qkv\.(weight|bias)$",
            lambda value, dim=dim: qkv_heads_last(value, dim),
        )
        for i, dim in head_dims(arch).items()
    ]
