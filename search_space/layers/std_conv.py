"""Weight-standardized convolution (Qiao et al. 2019), as BiT pairs it with group norm."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

WS_EPS = 1e-8  # BiT's epsilon inside the standardization


class StdConv2d(nn.Conv2d):
    """Conv2d whose kernel is standardized per output channel on every forward:
    w <- (w - mean(w)) / sqrt(var(w) + eps), the variance biased (over in x kh x kw)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = self.weight.flatten(1)  # (out, in * kh * kw)
        var, mean = torch.var_mean(flat, dim=1, unbiased=False, keepdim=True)
        weight = ((flat - mean) / torch.sqrt(var + WS_EPS)).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def make_conv(
    in_chs: int,
    out_chs: int,
    kernel: int,
    stride: int = 1,
    *,
    groups: int = 1,
    bias: bool = False,
    weight_std: bool = False,
) -> nn.Conv2d:
    """A kxk conv padded by k // 2 (so its output is ceil(H / stride)), standardized or not."""
    conv_cls = StdConv2d if weight_std else nn.Conv2d
    return conv_cls(in_chs, out_chs, kernel, stride, kernel // 2, groups=groups, bias=bias)
