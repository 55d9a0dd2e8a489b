"""FLOP conventions: which operations a FLOP count includes, and at what cost.

Published FLOP figures differ by convention more than people expect: one paper's counter
counts BatchNorm and leaves pooling out, another does the opposite. A search compares its
candidates under one convention, and a user comparing with a published table needs that
table's. Both conventions here count one fused multiply-add as one FLOP and count every
convolution and matrix product (attention's included) the same way; they differ in the
cheap layers:

- ``fvcore`` (the default): fvcore's rules. Norms count (an inference BatchNorm: 2 per
  element), the linear layer's bias does not, pooling is free.
- ``nb201``: the counter of NAS-Bench-201 (Dong & Yang, ICLR 2020; its ``get_model_infos``),
  the one its published FLOPs come from. Norms are free, the linear layer's bias counts
  (1 per output), and a k x k pooling window costs k^2 per output element.

A space picks one with ``search: {flop_convention: NAME}``; the bundled ``nb201`` space
picks ``nb201``, so its FLOPs are the ones the benchmark's users know.
"""

from __future__ import annotations

import math
from typing import Any

DEFAULT = "fvcore"
DESCRIPTIONS = {
    "fvcore": "one fused multiply-add = 1 FLOP (fvcore); attention matrix products counted",
    "nb201": (
        "one fused multiply-add = 1 FLOP (NAS-Bench-201's counter: norms free, "
        "linear bias and k x k pooling at k^2 per output counted)"
    ),
}
CONVENTIONS = tuple(DESCRIPTIONS)
_NORMS = (
    "aten::batch_norm",
    "aten::group_norm",
    "aten::layer_norm",
    "aten::instance_norm",
    "aten::rms_norm",
)


def convention_of(arch: Any) -> str:
    """The FLOP convention an architecture's space asks for (``search.flop_convention``)."""
    search = (getattr(arch, "run_config", None) or {}).get("search") or {}
    value = search.get("flop_convention", DEFAULT) if isinstance(search, dict) else DEFAULT
    return value if value in DESCRIPTIONS else DEFAULT  # the space's validator names typos


def check(convention: str) -> None:
    if convention not in DESCRIPTIONS:
        raise ValueError(
            f"FLOP convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}"
        )


def handles(convention: str) -> dict[str, Any]:
    """fvcore op handles that turn the default (``fvcore``) count into `convention`'s."""
    check(convention)
    if convention == "fvcore":
        return {}
    return {
        **dict.fromkeys(_NORMS, _free),
        "aten::linear": _linear_with_bias,
        "aten::avg_pool2d": _window_pool,
        "aten::max_pool2d": _window_pool,
    }


def _free(inputs: list[Any], outputs: list[Any]) -> int:
    return 0


def _shape(value: Any) -> list[int]:
    from fvcore.nn.jit_handles import get_shape

    return get_shape(value)


def _linear_with_bias(inputs: list[Any], outputs: list[Any]) -> int:
    """``linear(x (..., I), W (O, I), bias)``: one multiply-add per weight use, plus the bias."""
    out = _shape(outputs[0])
    products = math.prod(_shape(inputs[0])) * out[-1]
    has_bias = len(inputs) > 2 and inputs[2].type().kind() != "NoneType"
    return products + (math.prod(out) if has_bias else 0)


def _window_pool(inputs: list[Any], outputs: list[Any]) -> int:
    """``avg_pool2d(x, kernel_size, ...)`` / ``max_pool2d``: k_h * k_w per output element."""
    kernel = inputs[1].toIValue()
    if kernel is None:  # a list built in the graph: read its constant elements
        kernel = [value.toIValue() for value in inputs[1].node().inputs()]
    kernel = list(kernel) * 2 if len(kernel) == 1 else list(kernel)
    return math.prod(_shape(outputs[0])) * int(kernel[0]) * int(kernel[1])
