"""Weight-standardized convolution (Qiao et al. 2019), as BiT pairs it with group norm."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

WS_EPS = 1e-8  # BiT's epsilon inside the standardization


class StdConv2d(nn.Conv2d):
    """Conv2d whose kernel is standardized per output channel on every forward:
    w <- (w - mean(w)) / sqrt(var(w) + eps), the variance biased (over in x kh x kw).

    Computed as a batch norm over the kernel viewed as (1, out, in * kh * kw): one fused
    op, and FLOP counters see it as the norm it is.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = self.weight.reshape(1, self.out_channels, -1)  # (1, out, in * kh * kw)
        weight = F.batch_norm(flat, None, None, training=True, momentum=0.0, eps=WS_EPS)
        weight = weight.reshape_as(self.weight)
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
