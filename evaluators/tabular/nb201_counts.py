"""Parameters and FLOPs of a NAS-Bench-201 network, in closed form from its definition.

The network (Dong & Yang, ICLR 2020, section 3.1): a 3x3 conv + BN stem to 16 channels;
three stages of 5 cells at 16, 32 and 64 channels; between stages a residual block
(ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut 2x2/2 average pool + 1x1 conv); then BN,
ReLU, global average pool and a linear classifier. Every conv has no bias and every BN
is affine (2 parameters per channel).

Two FLOP conventions, both with one multiply-add as one FLOP:
- ``"nb201"``: NB201's own counter (its ``get_model_infos``): convs, the linear layer with
  its bias, and k x k pooling at k^2 per output element; norms and activations are free.
- ``"fvcore"``: this project's counter (evaluators/flops.py): convs and the linear layer
  without its bias, an inference BatchNorm at 2 per element; pooling is free.

Used to check the built model (tests) and, in a tabular search, to skip tracing 15,625
networks with fvcore (the closed form equals fvcore's count: tests/evaluators/).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from evaluators.flop_conventions import CONVENTIONS

EDGES = ("edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2")


def nb201_counts(
    edges: Mapping[str, str],
    *,
    widths: Sequence[int] = (16, 32, 64),
    depth: int = 5,
    resolution: int = 32,
    classes: int = 10,
    in_chs: int = 3,
    convention: str = "fvcore",
) -> dict[str, float]:
    """{"params": ..., "flops": ...} of the NB201 network whose cell has these six edges."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    bn = 2 if convention == "fvcore" else 0  # FLOPs per element of a BatchNorm output
    pool = convention == "nb201"
    size = resolution
    stem = widths[0]
    params = 9 * in_chs * stem + 2 * stem
    flops = 9 * in_chs * stem * size**2 + bn * stem * size**2
    previous = stem
    for index, width in enumerate(widths):
        if index > 0:
            size = math.ceil(size / 2)
            p, f = _reduction(previous, width, size, bn, pool)
            params, flops = params + p, flops + f
        p, f = _cell(edges, width, size, bn, pool)
        params, flops = params + depth * p, flops + depth * f
        previous = width
    params += 2 * previous + previous * classes + classes  # final BN, linear
    flops += bn * previous * size**2 + previous * classes + (classes if pool else 0)
    return {"params": float(params), "flops": float(flops)}


def _cell(edges: Mapping[str, str], width: int, size: int, bn: int, pool: bool) -> tuple:
    params = flops = 0
    area = size * size
    for key in EDGES:
        op = edges[key]
        if op in ("nor_conv_1x1", "nor_conv_3x3"):
            k2 = 1 if op == "nor_conv_1x1" else 9
            params += k2 * width * width + 2 * width
            flops += k2 * width * width * area + bn * width * area
        elif op == "avg_pool_3x3" and pool:
            flops += 9 * width * area
    return params, flops


def _reduction(in_chs: int, out_chs: int, size: int, bn: int, pool: bool) -> tuple:
    area = size * size  # the output's
    params = 9 * in_chs * out_chs + 2 * out_chs + 9 * out_chs * out_chs + 2 * out_chs
    params += in_chs * out_chs  # the shortcut's 1x1 conv
    flops = (9 * in_chs * out_chs + 9 * out_chs * out_chs + in_chs * out_chs) * area
    flops += 2 * bn * out_chs * area + (4 * in_chs * area if pool else 0)
    return params, flops
