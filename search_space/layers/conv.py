"""Convolution followed by norm and activation, the unit every conv block repeats."""

from __future__ import annotations

from torch import nn

from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm
from search_space.layers.std_conv import make_conv


class ConvNormAct(nn.Sequential):
    """kxk conv (padding k // 2, so the output is ceil(H / stride)), norm, activation.

    The conv has a bias only when there is no norm to absorb it. `act=None` leaves
    the activation out (the last conv of a residual branch).
    """

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel: int = 1,
        stride: int = 1,
        *,
        norm: str,
        act: str | None,
        groups: int = 1,
    ):
        conv = make_conv(in_chs, out_chs, kernel, stride, groups=groups, bias=norm == "none")
        super().__init__(conv, make_norm(norm, out_chs), make_act(act) if act else nn.Identity())


def conv_groups(channels: int, groups: int, group_width: int | None) -> int:
    """Groups of a grouped conv: channels // group_width when a group width is set
    (RegNet states widths per group), else `groups` (ResNeXt's cardinality)."""
    return channels // group_width if group_width else groups


def group_problems(channels: int, groups: int, group_width: int | None) -> list[str]:
    """Why a grouped conv over `channels` cannot be built (empty when it can)."""
    if group_width and channels % group_width:
        return [f"inner width {channels} is not divisible by group_width {group_width}"]
    if not group_width and channels % groups:
        return [f"inner width {channels} is not divisible by groups {groups}"]
    return []
