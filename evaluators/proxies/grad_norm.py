"""Gradient norm at initialization (Abdelfattah et al. 2021, "Zero-Cost Proxies for
Lightweight NAS"): the sum over weight tensors (conv kernels, linear matrices: ndim >= 2)
of the L2 norm of the cross-entropy gradient on one batch.

Conventions: the copy runs in train mode (BatchNorm uses batch statistics, as in
training); targets are seeded random labels unless given.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from evaluators.proxies.common import (
    Inputs,
    device_of,
    input_batch,
    model_copy,
    random_targets,
    register_proxy,
    seeded,
)


@register_proxy("grad_norm")
def score(
    model: nn.Module,
    inputs: Inputs,
    *,
    seed: int = 0,
    targets: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    batch_size: int = 32,
) -> float:
    """Sum of per-tensor gradient L2 norms of the weight matrices and kernels."""
    net = model_copy(model, training=True, device=device)
    images = input_batch(inputs, batch_size, seed).to(device_of(net))
    with seeded(seed):
        logits = net(images)
        labels = random_targets(logits, seed) if targets is None else targets.to(logits.device)
        F.cross_entropy(logits, labels).backward()
    return sum(p.grad.norm().item() for p in net.parameters() if p.grad is not None and p.ndim >= 2)
