"""fvcore op handles for the ops with matrix-product cost that fvcore misses or miscounts.

Convention (fvcore's, and the one published GMACs tables use): one fused multiply-add
counts as one FLOP, so a matrix product (M, K) @ (K, N) costs M * K * N. A handle takes
the traced node's inputs and outputs (``torch._C.Value``) and returns a count.

The op sets at the bottom say what happens to every op a trace may contain:
``MATRIX_HANDLES`` are counted here, ``ELEMENTWISE_OPS`` are knowingly left uncounted
(cheap next to the products) and reported, ``ZERO_COST_OPS`` move or index data and
cost nothing. Anything else that *looks* like a matrix product fails loudly
(``is_matrix_like``).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from typing import Any

with warnings.catch_warnings():  # fvcore's import scripts a loss with the deprecated jit.script
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn.jit_handles import get_shape, norm_flop_counter

Handle = Callable[[list[Any], list[Any]], int]


def _shape(value: Any) -> list[int]:
    shape = get_shape(value)
    if shape is None:
        raise ValueError(f"the FLOP counter needs a tensor with a known shape, got {value}")
    return shape


def _leading_elements(*shapes: list[int]) -> int:
    """Number of (batch, head, window...) slices: right-aligned leading dims, broadcast.

    Taking the larger size per dim also covers grouped-query attention, where key and
    value have fewer heads than the query and are repeated to match it.
    """
    rank = max(len(s) for s in shapes)
    padded = [[1] * (rank - len(s)) + list(s) for s in shapes]
    return math.prod(max(dims) for dims in zip(*padded))


def attention_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """``scaled_dot_product_attention(q, k, v, ...)``: the two matrix products.

    q (..., L, E), k (..., S, E), v (..., S, Ev): q @ k^T costs L*S*E and
    softmax(.) @ v costs L*S*Ev per (batch, head) slice; any number of leading dims,
    so windowed attention (windows folded into the batch) is counted the same way.
    The scale, mask and softmax are elementwise and not counted.
    """
    q, k, v = (_shape(x) for x in inputs[:3])
    length, embed = q[-2], q[-1]
    source, value_embed = k[-2], v[-1]
    return _leading_elements(q[:-2], k[:-2], v[:-2]) * length * source * (embed + value_embed)


def native_mha_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """``_native_multi_head_attention``: nn.MultiheadAttention's fused inference path.

    query (..., L, E), key/value (..., S, E): the q, k, v and output projections
    (2*L*E*E + 2*S*E*E) plus both attention products (2*L*S*E) per batch item.
    """
    q, k = _shape(inputs[0]), _shape(inputs[1])
    length, embed, source = q[-2], q[-1], k[-2]
    projections = 2 * length * embed * embed + 2 * source * embed * embed
    return _leading_elements(q[:-2], k[:-2]) * (projections + 2 * length * source * embed)


def product_flops(contraction_input: int, contraction_dim: int = -1) -> Handle:
    """Ops whose output element is one dot product: output elements * contraction length.

    Covers matmul with any broadcasting and 1-D operands, mm, bmm, mv, dot, and the
    fused-add forms (addmm, baddbmm, addmv) whose matrix operand sits at
    `contraction_input`.
    """

    def handle(inputs: list[Any], outputs: list[Any]) -> int:
        out = _shape(outputs[0])
        return math.prod(out) * _shape(inputs[contraction_input])[contraction_dim]

    return handle


def addbmm_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """``addbmm(input, b1 (B, M, K), b2 (B, K, N))``: B*M*K*N (summed over the batch)."""
    return math.prod(_shape(inputs[1])) * _shape(inputs[2])[-1]


def bilinear_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """``bilinear(x1 (..., I1), x2 (..., I2), W (O, I1, I2))``: each output sums I1*I2 products."""
    weight = _shape(inputs[2])
    return math.prod(_shape(outputs[0])) * weight[1] * weight[2]


def tensordot_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """``tensordot(a, b, dims)``: output elements * contracted size C.

    With a = free_a * C and b = free_b * C elements and the output free_a * free_b,
    C = sqrt(|a| * |b| / |out|), which avoids parsing the dims argument.
    """
    a, b, out = (math.prod(_shape(x)) for x in (inputs[0], inputs[1], outputs[0]))
    contracted = math.isqrt(a * b // max(out, 1))
    return out * contracted


def convolution_flops(transposed_arg: int | None, always_transposed: bool = False) -> Handle:
    """Convolutions: batch * |weight| * output positions (input positions when transposed).

    |weight| = C_out * C_in/groups * prod(kernel), so grouped and depthwise convs are
    right. Covers ``_convolution_mode`` (``Conv2d(padding="same")``), which fvcore counts
    as 0, and the un-lowered ``convolution``/``conv2d`` forms.
    """

    def handle(inputs: list[Any], outputs: list[Any]) -> int:
        x, w, out = _shape(inputs[0]), _shape(inputs[1]), _shape(outputs[0])
        transposed = always_transposed
        if transposed_arg is not None:
            transposed = bool(inputs[transposed_arg].toIValue())
        positions = x[2:] if transposed else out[2:]
        batch = x[0] if len(x) == len(w) else 1  # unbatched conv input has no batch dim
        return batch * math.prod(w) * math.prod(positions)

    return handle


_ATTENTION_OPS = (
    "aten::scaled_dot_product_attention",
    "aten::_scaled_dot_product_attention_math",
    "aten::_scaled_dot_product_flash_attention",
    "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_cudnn_attention",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
)

# Handles set on every analysis; they replace fvcore's where both exist (its matmul
# handle rejects broadcast and 1-D operands, its conv handle the un-lowered forms).
MATRIX_HANDLES: dict[str, Handle] = {
    **dict.fromkeys(_ATTENTION_OPS, attention_flops),
    "aten::_native_multi_head_attention": native_mha_flops,
    "aten::matmul": product_flops(0),
    "aten::mm": product_flops(0),
    "aten::bmm": product_flops(0),
    "aten::mv": product_flops(0),
    "aten::dot": product_flops(0),
    "aten::vdot": product_flops(0),
    "aten::addmm": product_flops(1),
    "aten::baddbmm": product_flops(1),
    "aten::addmv": product_flops(1),
    "aten::addbmm": addbmm_flops,
    "aten::bilinear": bilinear_flops,
    "aten::tensordot": tensordot_flops,
    "aten::_convolution": convolution_flops(transposed_arg=6),
    "aten::convolution": convolution_flops(transposed_arg=6),
    "aten::_convolution_mode": convolution_flops(transposed_arg=None),
    "aten::conv1d": convolution_flops(transposed_arg=None),
    "aten::conv2d": convolution_flops(transposed_arg=None),
    "aten::conv3d": convolution_flops(transposed_arg=None),
    "aten::conv_transpose1d": convolution_flops(None, always_transposed=True),
    "aten::conv_transpose2d": convolution_flops(None, always_transposed=True),
    "aten::conv_transpose3d": convolution_flops(None, always_transposed=True),
    # fvcore keeps its own handles for linear, einsum and the norms; RMSNorm is newer.
    "aten::rms_norm": norm_flop_counter(2),
}

_ELEMENTWISE_NAMES = """
    gelu silu sigmoid tanh hardswish hardsigmoid relu6 leaky_relu elu selu celu mish softplus
    hardtanh erf exp log sqrt rsqrt pow abs neg reciprocal sign add sub rsub mul div addcmul
    addcdiv lerp where minimum maximum clamp_min clamp_max softmax log_softmax _softmax mean sum
    var std var_mean amax amin cumsum cummax cummin linalg_vector_norm norm frobenius_norm
    max_pool1d max_pool2d max_pool3d max_pool2d_with_indices avg_pool1d avg_pool2d avg_pool3d
    adaptive_avg_pool1d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d
    upsample_bicubic2d upsample_linear1d upsample_trilinear3d upsample_nearest1d
    upsample_nearest3d lt le ne logical_not bernoulli native_dropout feature_dropout alpha_dropout
"""
_ZERO_COST_NAMES = """
    clone repeat repeat_interleave expand_as flip pad reflection_pad1d reflection_pad2d
    replication_pad1d replication_pad2d pixel_shuffle pixel_unshuffle channel_shuffle unflatten
    movedim swapaxes im2col col2im unfold as_strided index_select embedding fill_ zero_ ones_like
    empty_like rand randn rand_like randn_like randint scalar_tensor lift_fresh alias
    masked_fill_ tile meshgrid linspace tensor new_ones argmax topk sort
"""

# Left uncounted on purpose: elementwise or reduction cost, small next to the matrix
# products (activations, softmax, residual adds, scaling, pooling; in-place forms too).
# Reported by `count_flops` under "uncounted_ops".
ELEMENTWISE_OPS: frozenset[str] = frozenset(
    f"aten::{name}{suffix}" for name in _ELEMENTWISE_NAMES.split() for suffix in ("", "_")
)

# Data movement, indexing, allocation: no arithmetic, ignored without a report (fvcore
# already ignores its own list of these: view, permute, cat, relu, dropout...).
ZERO_COST_OPS: frozenset[str] = frozenset(f"aten::{name}" for name in _ZERO_COST_NAMES.split())

_MATRIX_LIKE = re.compile(
    r"mm|matmul|conv|linear|einsum|bilinear|attention|dot|addmv|^mv$|lstm|gru|rnn|fft"
)


def is_matrix_like(op: str) -> bool:
    """True for an op name that suggests matrix-product cost (``aten::foo_mm``, ``...conv...``).

    Custom autograd functions (``prim::PythonOp``) and scripted calls hide their cost
    from the tracer, so they count as matrix-like too: better a loud error than a 0.
    """
    if op.startswith(("prim::PythonOp", "prim::CallFunction", "prim::CallMethod")):
        return True
    return bool(_MATRIX_LIKE.search(op.split("::", 1)[-1].strip("_")))
