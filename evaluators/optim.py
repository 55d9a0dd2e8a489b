"""Optimizer with decay-free norms and biases, and a per-step warm-up + cosine schedule.

Weight decay applies to weight matrices and conv kernels only (``ndim >= 2``); biases,
norm scales and shifts, layer-scale vectors (all 1-D), position embeddings, class
tokens and relative-position bias tables (by name: `EMBEDDING_NAMES`), and whatever the
model lists in ``no_weight_decay()`` (timm's convention) are not decayed, as in the
ConvNeXt, DeiT and Swin recipes: decay would pull a learned position toward "nowhere".
"""

from __future__ import annotations

import math

import torch
from torch import nn

from evaluators.config import TrainConfig

# Last component of a parameter's name that marks an embedding or a bias table.
EMBEDDING_NAMES = frozenset({"pos_embed", "class_token", "cls_token", "table"})


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed (ndim >= 2) and not decayed (1-D, embeddings, or listed)."""
    listed_skip = model.no_weight_decay() if hasattr(model, "no_weight_decay") else ()
    skip = EMBEDDING_NAMES | set(listed_skip)
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        listed = name in skip or name.rsplit(".", 1)[-1] in skip
        (no_decay if parameter.ndim <= 1 or listed else decay).append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (decoupled decay) or SGD with momentum, fused kernels where torch has them."""
    groups = parameter_groups(model, config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=False)
    return torch.optim.AdamW(groups, lr=config.lr, fused=_fused_ok(model))


def _fused_ok(model: nn.Module) -> bool | None:
    """Fused AdamW runs on CPU and CUDA for floating-point params (torch >= 2.4)."""
    devices = {p.device.type for p in model.parameters()}
    return True if devices and devices <= {"cpu", "cuda"} else None


class WarmupCosine:
    """Learning rate per step: linear warm-up to the peak, then cosine decay to 0.

    lr(t) = peak * (t + 1) / W for t < W, else peak * 0.5 * (1 + cos(pi * (t - W) / (T - W)))
    with W warm-up steps and T total steps (Loshchilov & Hutter 2017, SGDR, no restarts).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int):
        self.optimizer = optimizer
        self.total_steps = max(1, total_steps)
        self.warmup_steps = min(max(0, warmup_steps), self.total_steps)
        self.peaks = [group["lr"] for group in optimizer.param_groups]

    def factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / decay_steps)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def set_step(self, step: int) -> float:
        """Sets every group's lr for optimizer step `step` (0-based); returns the first."""
        factor = self.factor(step)
        for group, peak in zip(self.optimizer.param_groups, self.peaks):
            group["lr"] = peak * factor
        return self.peaks[0] * factor
