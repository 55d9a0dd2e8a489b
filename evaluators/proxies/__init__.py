"""Zero-cost proxies: scores of an untrained network that correlate with trained accuracy.

``compute_proxy(name, model, inputs, seed=...)`` with `name` one of ``list_proxies()``
(synflow, naswot, grad_norm). `inputs` is a (C, H, W) shape (a seeded random batch
is drawn) or a real batch (N, C, H, W), already normalized. Each proxy is deterministic
for a seed and leaves the model untouched. Higher is better for all three.
"""

from __future__ import annotations

import torch
from torch import nn

from evaluators.proxies import grad_norm, naswot, synflow  # noqa: F401  (registers them)
from evaluators.proxies.common import PROXIES, Inputs, get_proxy

__all__ = ["compute_proxy", "list_proxies"]


def list_proxies() -> list[str]:
    return sorted(PROXIES)


def compute_proxy(
    name: str,
    model: nn.Module,
    inputs: Inputs,
    *,
    seed: int = 0,
    targets: torch.Tensor | None = None,
) -> float:
    """The proxy `name`'s score of `model`; an unknown name is a SpaceError."""
    return get_proxy(name)(model, inputs, seed=seed, targets=targets)
