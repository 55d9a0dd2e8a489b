"""The five operations of NAS-Bench-201's cell (Dong & Yang, ICLR 2020, section 3.1).

Each maps (N, in_chs, H, W) to (N, out_chs, ceil(H / stride), ceil(W / stride)). In
NB201's own network every cell keeps its width and size (stride 1, in_chs == out_chs);
the other cases follow NB201's code so that the cell keeps the block contract:
a 1x1 ReLU-conv-BN before pooling that changes width, and a factorized reduction as the
skip connection that changes shape.
"""

from __future__ import annotations

import torch
from torch import nn

OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


class ReLUConvBN(nn.Sequential):
    """ReLU, kxk conv without bias (padding k // 2), BatchNorm: NB201's ``nor_conv_kxk``."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int = 1):
        conv = nn.Conv2d(in_chs, out_chs, kernel, stride, kernel // 2, bias=False)
        super().__init__(nn.ReLU(), conv, nn.BatchNorm2d(out_chs))


class Zero(nn.Module):
    """``none``: the edge carries nothing; zeros of the output's shape."""

    def __init__(self, out_chs: int, stride: int):
        super().__init__()
        self.out_chs, self.stride = out_chs, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (N, C, ceil(H/s), ceil(W/s))
        if x.shape[1] == self.out_chs:
            return x.mul(0.0)
        return x.new_zeros((x.shape[0], self.out_chs, *x.shape[2:]))


class FactorizedReduce(nn.Module):
    """The skip connection across a change of shape: stride 2 concatenates two 1x1 stride-2
    convs, the second shifted by one pixel; stride 1 is one 1x1 conv. Then BatchNorm."""

    def __init__(self, in_chs: int, out_chs: int, stride: int):
        super().__init__()
        self.relu = nn.ReLU()
        if stride == 1:
            self.convs = nn.ModuleList([nn.Conv2d(in_chs, out_chs, 1, bias=False)])
        else:
            half = out_chs // 2
            self.convs = nn.ModuleList(
                [
                    nn.Conv2d(in_chs, half, 1, stride, bias=False),
                    nn.Conv2d(in_chs, out_chs - half, 1, stride, bias=False),
                ]
            )
        self.stride = stride
        self.norm = nn.BatchNorm2d(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        if len(self.convs) == 1:
            return self.norm(self.convs[0](x))
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))  # same size, one pixel on
        out = torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1)
        return self.norm(out)


class AvgPool(nn.Module):
    """``avg_pool_3x3``: 3x3 average pool, padding 1, padding not counted; a 1x1
    ReLU-conv-BN first when the width changes."""

    def __init__(self, in_chs: int, out_chs: int, stride: int):
        super().__init__()
        self.pre = ReLUConvBN(in_chs, out_chs, 1) if in_chs != out_chs else nn.Identity()
        self.pool = nn.AvgPool2d(3, stride, 1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pre(x))


def make_op(name: str, in_chs: int, out_chs: int, stride: int) -> nn.Module:
    """One edge's operation by its NB201 name."""
    if name == "none":
        return Zero(out_chs, stride)
    if name == "skip_connect":
        if stride == 1 and in_chs == out_chs:
            return nn.Identity()
        return FactorizedReduce(in_chs, out_chs, stride)
    if name == "avg_pool_3x3":
        return AvgPool(in_chs, out_chs, stride)
    kernel = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}[name]
    return ReLUConvBN(in_chs, out_chs, kernel, stride)
