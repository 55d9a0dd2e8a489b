"""Inverted residual block, MBConv (MobileNetV2/V3, EfficientNet; CoAtNet's conv stages)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.acts import make_act
from search_space.layers.conv import ConvNormAct
from search_space.layers.drop_path import DropPath
from search_space.layers.mobile import inner_width, mobile_options, se_width
from search_space.layers.norms import make_norm
from search_space.layers.shortcut import make_skip, shortcut_bias_option, skip_option
from search_space.layers.squeeze_excite import SqueezeExcite
from search_space.options import Option, act_option, kernel_option, norm_option
from search_space.registry import register_block


@register_block("mbconv")
class MBConvBlock(Block):
    """1x1 expand, depthwise kxk (with the stride), squeeze-excite, 1x1 project; + shortcut.

    The inner width is ``expansion`` times the output width (CoAtNet) or the input
    width (``expansion_from: input``: MobileNet, EfficientNet), rounded to ``divisor``.
    ``expansion: 1`` is a depthwise-separable conv: no expand conv, the depthwise conv
    runs on in_chs. Squeeze-excite width: see ``se_from``. ``skip: identity`` keeps a
    residual only where the shape allows, as the mobile networks do.

    ``norm_position``:
    - ``post`` (EfficientNet): every conv is followed by a norm; no norm on input.
    - ``pre`` (CoAtNet): a norm on the input, with no activation unless
      ``pre_norm_act``; the projection has no norm after it and a bias unless
      ``proj_bias: false``.

    ``se_position``: squeeze-excite after the depthwise conv's norm and act
    (``after_act``, EfficientNet, CoAtNet), or between the depthwise conv and its
    norm (``before_norm``, timm's CoAtNet RW models).
    """

    OPTIONS: ClassVar[dict[str, Option]] = {
        "kernel": kernel_option(3),
        **mobile_options(
            expansion_note="; 1 = no expand conv (depthwise-separable: the depthwise conv "
            "runs on the input width, as EfficientNet's and MobileNet's first block)"
        ),
        "norm": norm_option("batch"),
        "act": act_option("silu"),
        "norm_position": Option(
            str,
            "post",
            "post: a norm after every conv, none on the input (EfficientNet); pre: a norm on "
            "the input (no act unless pre_norm_act) and none after the last 1x1 conv, which "
            "has a bias unless proj_bias: false (CoAtNet)",
            choices=("post", "pre"),
        ),
        "skip": skip_option(),
        "pre_norm_act": Option(
            bool, False, "norm_position pre: the act after the input norm too (CoAtNet RW)"
        ),
        "se_position": Option(
            str,
            "after_act",
            "squeeze-excite after the depthwise conv's norm and act (EfficientNet, CoAtNet), or "
            "between the depthwise conv and its norm (CoAtNet RW)",
            choices=("after_act", "before_norm"),
        ),
        "proj_bias": Option(
            bool, True, "norm_position pre: bias on the last 1x1 conv (false in CoAtNet RW)"
        ),
        "shortcut_bias": shortcut_bias_option(),
    }

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        stride: int = 1,
        *,
        input_size: Size,
        index: int = 0,
        shortcut: str = "conv",
        kernel: int,
        norm: str,
        act: str,
        norm_position: str,
        skip: str,
        pre_norm_act: bool,
        se_position: str,
        proj_bias: bool,
        shortcut_bias: bool,
        **mobile: object,
    ):
        super().__init__()
        pre = norm_position == "pre"
        expand = mobile["expansion"] != 1
        mid = inner_width(
            in_chs, out_chs, mobile["expansion"], mobile["expansion_from"], mobile["divisor"]
        )
        mid = mid if expand else in_chs
        # Fixed slots (absent layers are Identity) so parameter names do not depend on
        # the options: 0 input norm, 1 expand, 2 depthwise, 3 squeeze-excite, 4 project.
        pre_norm = make_norm(norm, in_chs)
        if pre_norm_act:
            pre_norm = nn.Sequential(pre_norm, make_act(act))
        layers: list[nn.Module] = [
            pre_norm if pre else nn.Identity(),
            ConvNormAct(in_chs, mid, 1, norm=norm, act=act) if expand else nn.Identity(),
            ConvNormAct(mid, mid, kernel, stride, norm=norm, act=act, groups=mid),
            nn.Identity(),
            nn.Conv2d(mid, out_chs, 1, bias=proj_bias)
            if pre
            else ConvNormAct(mid, out_chs, 1, norm=norm, act=None),
        ]
        if mobile["se"] > 0:
            reduced = se_width(in_chs, out_chs, mid, mobile, divisor=mobile["divisor"])
            layers[3] = SqueezeExcite(mid, reduced, mobile["se_act"], mobile["se_gate"])
        self.branch = nn.Sequential(*layers)
        self.se_before_norm = se_position == "before_norm"
        self.shortcut = make_skip(in_chs, out_chs, stride, shortcut, norm, skip, bias=shortcut_bias)
        self.drop_path = DropPath() if self.shortcut is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return self._branch(x)
        return self.shortcut(x) + self.drop_path(self._branch(x))

    def _branch(self, x: torch.Tensor) -> torch.Tensor:
        if not self.se_before_norm:
            return self.branch(x)
        pre_norm, expand, depthwise, se, project = self.branch
        conv, norm, act = depthwise
        return project(act(norm(se(conv(expand(pre_norm(x)))))))
