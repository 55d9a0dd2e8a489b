"""SynFlow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively
conserving synaptic flow"), used as a zero-cost NAS proxy (Abdelfattah et al. 2021).

R = 1^T (prod_l |W_l|) 1: the network with every parameter replaced by its absolute
value, fed an all-ones input; the score is sum over parameters of |theta * dR/dtheta|.
Conventions: the copy runs in float64 (the product over layers overflows float32 for
deep nets) and in eval mode, so BatchNorm applies its running statistics as a fixed
affine map instead of normalizing away a constant batch; LayerNorm and attention work
as they are. We return the natural log of the sum: same ranking, and a number that
stays readable from tiny to deep nets.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from evaluators.proxies.common import Inputs, input_shape, model_copy, register_proxy, seeded


@register_proxy("synflow")
def score(
    model: nn.Module,
    inputs: Inputs,
    *,
    seed: int = 0,
    targets: torch.Tensor | None = None,
    device: torch.device | str | None = None,
) -> float:
    """log(sum |theta * dR/dtheta|); only the shape of `inputs` is used (the input is all ones)."""
    net = model_copy(model, training=False, dtype=torch.float64, device=device)
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()  # linearize: every weight and running statistic positive
    ones = torch.ones((1, *input_shape(inputs)), dtype=torch.float64, device=_device(net))
    with seeded(seed):
        net(ones).sum().backward()
    total = sum((p * p.grad).abs().sum().item() for p in net.parameters() if p.grad is not None)
    if not math.isfinite(total) or total <= 0:
        raise ValueError(
            f"synflow is {total} for this model: it overflowed or no signal reached the output"
        )
    return math.log(total)


def _device(net: nn.Module) -> torch.device:
    parameter = next(net.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")
