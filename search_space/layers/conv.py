"""Convolution followed by norm and activation, the unit every conv block repeats."""

from __future__ import annotations

from torch import nn

from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm


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
        conv = nn.Conv2d(
            in_chs, out_chs, kernel, stride, kernel // 2, groups=groups, bias=norm == "none"
        )
        super().__init__(conv, make_norm(norm, out_chs), make_act(act) if act else nn.Identity())
