"""FLOPs of a model for one input, counted with fvcore from a single trace.

Convention (the default, ``fvcore``; ``flop_conventions.py`` has the other): one fused
multiply-add counts as one FLOP (fvcore's, and the one published
GMACs tables use). Attention's matrix products (q @ k^T and attn @ v) are counted,
including PyTorch's fused ``scaled_dot_product_attention``, which fvcore alone counts
as 0. Norms are counted as fvcore does. Elementwise ops (activations, softmax, adds,
pooling) are left out and listed under ``uncounted_ops``; an op with matrix-product
cost that has no handle raises ``UncountedOpError`` rather than counting as 0.

Repeated identical blocks (a stage of 24 equal transformer blocks) are traced once and
counted as many times as they run (``flop_repeats.py``): exactly the same count, in the
time of a shallow model.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from evaluators import flop_conventions
from evaluators.errors import UncountedOpError
from evaluators.flop_handles import (
    ELEMENTWISE_OPS,
    MATRIX_HANDLES,
    ZERO_COST_OPS,
    is_matrix_like,
)
from evaluators.flop_repeats import RepeatedCosts, find_repeats, swapped_for_identity

with warnings.catch_warnings():  # fvcore's import scripts a loss with the deprecated jit.script
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn import FlopCountAnalysis

FLOP_CONVENTION = flop_conventions.DESCRIPTIONS[flop_conventions.DEFAULT]


def count_flops(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    *,
    convention: str = flop_conventions.DEFAULT,
    repeated_blocks_once: bool = True,
) -> dict:
    """FLOPs of `model` for one input of shape (C, H, W), batch size 1, in eval mode.

    Returns ``{"flops": total, "stages": {child: flops}, "flop_convention": str,
    "uncounted_ops": {op: calls}}``. ``stages`` has one entry per top-level child
    module (a ``ModuleList`` such as ``stages`` is split into ``stages.0``,
    ``stages.1``...), plus ``"other"`` for ops run by the top-level forward itself
    when there are any. The model is traced once; its train/eval flags are restored.
    ``convention`` names the counting rules (``evaluators/flop_conventions.py``: ``fvcore``
    or ``nb201``). ``repeated_blocks_once=False`` traces every block (the slow reference
    the fast path is tested against).
    """
    flop_conventions.check(convention)
    inputs = _inputs(model, input_shape)
    repeats = find_repeats(model, inputs) if repeated_blocks_once else []
    with swapped_for_identity(model, repeats), _quiet():
        analysis = _analysis(model, inputs, convention)
        costs = RepeatedCosts(analysis.total, analysis.unsupported_ops, repeats)
        total, unsupported = costs.cost("")
        stages = {name: costs.cost(name)[0] for name in top_level_parts(model)}
    rest = total - sum(stages.values())
    if rest > 0:
        stages["other"] = rest
    return {
        "flops": total,
        "stages": stages,
        "flop_convention": flop_conventions.DESCRIPTIONS[convention],
        "uncounted_ops": _uncounted(unsupported),
    }


def count_arch_flops(model: nn.Module, arch: Any) -> dict:
    """``count_flops`` for `arch`'s built model: its input shape, its space's convention."""
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    return count_flops(model, shape, convention=flop_conventions.convention_of(arch))


def top_level_parts(model: nn.Module) -> list[str]:
    """Names of the top-level children, with ModuleList/ModuleDict children split out."""
    names = []
    for name, child in model.named_children():
        if isinstance(child, nn.ModuleList | nn.ModuleDict):
            names += [f"{name}.{sub}" for sub, _ in child.named_children()]
        else:
            names.append(name)
    return names


def _inputs(model: nn.Module, input_shape: tuple[int, int, int]) -> torch.Tensor:
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None else torch.float32
    return torch.zeros((1, *input_shape), device=device, dtype=dtype)


def _analysis(model: nn.Module, inputs: torch.Tensor, convention: str) -> FlopCountAnalysis:
    analysis = FlopCountAnalysis(model, inputs)
    analysis.set_op_handle(**MATRIX_HANDLES)
    analysis.set_op_handle(**dict.fromkeys(ZERO_COST_OPS))
    analysis.set_op_handle(**flop_conventions.handles(convention))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    with _eval_mode(model), torch.no_grad(), _quiet():
        analysis.total()  # the one trace; every later query reads its cached statistics
    return analysis


def _uncounted(unsupported: Counter[str]) -> dict[str, int]:
    """The allowlisted elementwise ops, and any other harmless-looking unknown op."""
    unknown = (op for op in unsupported if op not in ELEMENTWISE_OPS)
    matrix_like = sorted(op for op in unknown if is_matrix_like(op))
    if matrix_like:
        raise UncountedOpError(
            f"no FLOP handle for {', '.join(matrix_like)}, which looks like a matrix product; "
            "add one in evaluators/flop_handles.py (MATRIX_HANDLES) instead of counting it as 0"
        )
    return dict(sorted(unsupported.items()))


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Counts the inference graph (BatchNorm with running stats, no dropout)."""
    flags = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield
    finally:
        for module, training in flags.items():
            module.training = training


@contextmanager
def _quiet() -> Iterator[None]:
    """Silences fvcore's logger and the tracer's warnings for the duration."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
