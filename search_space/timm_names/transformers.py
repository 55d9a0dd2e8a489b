"""timm ViT, CaiT, Swin and MLP-Mixer names -> ours."""

from __future__ import annotations

_MLP = [(r"(.*)\.mlp\.fc1\.", r"\1.mlp.0."), (r"(.*)\.mlp\.fc2\.", r"\1.mlp.2.")]

VIT = [
    (r"cls_token", "stem.class_token"),
    (r"pos_embed", "stem.pos_embed"),
    (r"patch_embed\.proj\.", "stem.proj."),
    (r"blocks\.", "stages.0."),
    (r"norm\.", "head.norm."),
    (r"head\.(weight|bias)", r"head.fc.\1"),
    *_MLP,
]

CAIT = [
    (r"cls_token", "head.class_token"),
    (r"pos_embed", "stem.pos_embed"),
    (r"patch_embed\.proj\.", "stem.proj."),
    (r"blocks_token_only\.", "head.blocks."),
    (r"blocks\.", "stages.0."),
    (r"(.*)\.gamma_(\d)", r"\1.scale\2.gamma"),
    (r"norm\.", "head.norm."),
    (r"head\.(weight|bias)", r"head.fc.\1"),
    *_MLP,
]

SWIN = [
    (r"patch_embed\.", "stem."),
    (r"layers\.(\d+)\.downsample\.", r"stages.\1.0."),  # the transition is the stage's layer 0
    (r"layers\.(\d+)\.blocks\.(\d+)\.", lambda m: f"stages.{m[1]}.{_swin_block(m)}."),
    (r"(.*)\.attn\.relative_position_bias_table", r"\1.attn.rel_pos.table"),
    (r"norm\.", "head.before_pool.0."),
    (r"head\.fc\.", "head.fc."),
    *_MLP,
]


def _swin_block(match) -> int:
    """Stages after the first start with a patch-merging layer, so blocks shift by one."""
    return int(match[2]) + (int(match[1]) > 0)


MIXER = [
    (r"stem\.proj\.", "stem.proj."),
    (r"blocks\.", "stages.0."),
    (r"(.*)\.mlp_tokens\.fc1\.", r"\1.token_mlp.0."),
    (r"(.*)\.mlp_tokens\.fc2\.", r"\1.token_mlp.2."),
    (r"(.*)\.mlp_channels\.fc1\.", r"\1.channel_mlp.0."),
    (r"(.*)\.mlp_channels\.fc2\.", r"\1.channel_mlp.2."),
    (r"norm\.", "head.before_pool.0."),
    (r"head\.(weight|bias)", r"head.fc.\1"),
]
