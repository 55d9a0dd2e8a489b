"""NASWOT (Mellor et al. 2021, "Neural Architecture Search without Training", eq. 2).

Each input of a batch gets a binary code c: one bit per unit of every rectifier-like
activation, 1 where the unit's pre-activation is positive. The kernel
K[i, j] = sum_layers (N_A - hamming(c_i, c_j)) = c_i.c_j + (1 - c_i).(1 - c_j) counts
the units where inputs i and j agree; the score is log |det K|. Networks that give
different inputs different activation patterns score higher.

Conventions: activations are caught at the function level (a TorchFunctionMode), so
``nn.ReLU`` modules and functional ``F.gelu`` calls alike are seen; for GELU, SiLU and
friends the code is the sign of their input, the natural extension. The copy runs in
train mode, as in the paper's code; K is accumulated in float64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from evaluators.proxies.common import (
    Inputs,
    device_of,
    input_batch,
    model_copy,
    register_proxy,
    seeded,
)

_ACTIVATIONS = {
    F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_,
    F.gelu, F.silu, F.mish, F.hardswish, F.relu6, F.leaky_relu, F.leaky_relu_, F.elu, F.celu,
    F.selu, torch.selu, torch.celu,
}  # fmt: skip


class _ActivationCodes(TorchFunctionMode):
    """Accumulates the Hamming-agreement kernel of every activation call's input."""

    def __init__(self, batch: int):
        super().__init__()
        self.batch, self.layers = batch, 0
        self.kernel = torch.zeros(batch, batch, dtype=torch.float64)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in _ACTIVATIONS and args and isinstance(args[0], torch.Tensor):
            self._add(args[0])
        return func(*args, **(kwargs or {}))

    def _add(self, pre_activation: torch.Tensor) -> None:
        if pre_activation.numel() % self.batch or pre_activation.shape[0] % self.batch:
            return  # not laid out batch-first: cannot attribute units to inputs
        codes = (pre_activation.detach() > 0).reshape(self.batch, -1).to(torch.float64).cpu()
        self.kernel += codes @ codes.T + (1 - codes) @ (1 - codes).T
        self.layers += 1


@register_proxy("naswot")
def score(
    model: nn.Module,
    inputs: Inputs,
    *,
    seed: int = 0,
    targets: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    batch_size: int = 32,
) -> float:
    """log |det K| of the activation-pattern kernel over one batch."""
    net = model_copy(model, training=True, device=device)
    images = input_batch(inputs, batch_size, seed).to(device_of(net))
    codes = _ActivationCodes(len(images))
    with seeded(seed), torch.no_grad(), codes:
        net(images)
    if codes.layers == 0:
        raise ValueError("naswot found no ReLU/GELU-like activation in this model")
    return torch.linalg.slogdet(codes.kernel).logabsdet.item()
