"""The residual path of a block whose output shape differs from its input's."""

from __future__ import annotations

from torch import nn

from search_space.layers.norms import make_norm

SHORTCUTS = ("conv", "pool")


def make_pool(stride: int) -> nn.Module:
    """stride x stride average pool whose output is ceil(H / stride), for odd sizes too."""
    if stride == 1:
        return nn.Identity()
    return nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False)


def make_shortcut(in_chs: int, out_chs: int, stride: int, kind: str, norm: str) -> nn.Module:
    """Identity when the shape is kept; else a channels-first (N, C, H, W) projection.

    - ``conv``: strided 1x1 conv + norm (ResNet's projection shortcut).
    - ``pool``: stride x stride average pool, then a 1x1 conv with bias when the
      width changes (CoAtNet's downsampling shortcut; no norm).
    """
    if stride == 1 and in_chs == out_chs:
        return nn.Identity()
    if kind == "conv":
        conv = nn.Conv2d(in_chs, out_chs, 1, stride, bias=norm == "none")
        return nn.Sequential(conv, make_norm(norm, out_chs))
    if kind == "pool":
        expand = nn.Conv2d(in_chs, out_chs, 1) if in_chs != out_chs else nn.Identity()
        return nn.Sequential(make_pool(stride), expand)
    raise ValueError(f"unknown shortcut {kind!r}; choose one of {SHORTCUTS}")
