"""The residual path of a block, and what it does when the output shape differs."""

from __future__ import annotations

from torch import nn

from search_space.layers.norms import make_norm
from search_space.options import Option

SHORTCUTS = ("conv", "pool")
# A block's `skip` key: where it has a residual at all.
SKIPS = ("projection", "identity", "none")


def make_pool(stride: int) -> nn.Module:
    """stride x stride average pool whose output is ceil(H / stride), for odd sizes too."""
    if stride == 1:
        return nn.Identity()
    return nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False)


def make_shortcut(
    in_chs: int, out_chs: int, stride: int, kind: str, norm: str, *, bias: bool = True
) -> nn.Module:
    """Identity when the shape is kept; else a channels-first (N, C, H, W) projection.

    - ``conv``: strided 1x1 conv + norm (ResNet's projection shortcut).
    - ``pool``: stride x stride average pool, then a 1x1 conv (with a bias unless
      `bias` is false) when the width changes (CoAtNet's downsampling shortcut; no norm).
    """
    if stride == 1 and in_chs == out_chs:
        return nn.Identity()
    if kind == "conv":
        conv = nn.Conv2d(in_chs, out_chs, 1, stride, bias=norm == "none")
        return nn.Sequential(conv, make_norm(norm, out_chs))
    if kind == "pool":
        expand = nn.Conv2d(in_chs, out_chs, 1, bias=bias) if in_chs != out_chs else nn.Identity()
        return nn.Sequential(make_pool(stride), expand)
    raise ValueError(f"unknown shortcut {kind!r}; choose one of {SHORTCUTS}")


def make_skip(
    in_chs: int, out_chs: int, stride: int, kind: str, norm: str, skip: str, *, bias: bool = True
) -> nn.Module | None:
    """The residual path for a block's `skip` mode, or None when the block has none.

    - ``projection``: identity, or the stage's projection (`kind`) where the shape changes;
    - ``identity``: a residual only where the shape is kept (MobileNet, EfficientNet);
    - ``none``: no residual.
    """
    same_shape = stride == 1 and in_chs == out_chs
    if skip == "none" or (skip == "identity" and not same_shape):
        return None
    return make_shortcut(in_chs, out_chs, stride, kind, norm, bias=bias)


def shortcut_bias_option() -> Option:
    return Option(
        bool,
        True,
        "bias on the 1x1 conv of a pooling shortcut (downsample: pool) that changes the "
        "width; false in timm's CoAtNet RW models",
    )


def skip_option(default: str = "projection") -> Option:
    return Option(
        str,
        default,
        "residual: a projection where the shape changes, only where it is kept, or none",
        choices=SKIPS,
    )
