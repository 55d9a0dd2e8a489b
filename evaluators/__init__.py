"""How a candidate is scored: FLOPs, latency, accuracy by training, zero-cost proxies.

Each evaluator is a plain function returning a dict (or a float for a proxy):

- ``count_flops(model, (C, H, W))`` (``evaluators.flops``): fvcore, one fused
  multiply-add = 1 FLOP, attention products counted, uncounted ops listed.
- ``measure_latency(model, (C, H, W), batch_size, device)`` (``evaluators.latency``).
- ``train_and_evaluate(model, data, train, ...)`` (``evaluators.training``) with
  ``DataConfig``/``TrainConfig`` (``evaluators.config``) and the datasets of
  ``evaluators.datasets``; a non-finite loss raises ``TrainingFailed``.
- ``compute_proxy(name, model, inputs)`` (``evaluators.proxies``): synflow, naswot,
  grad_norm.

The names are imported lazily, so ``import evaluators.config`` stays light.
Depends on torch, torchvision, fvcore, mlxtend and ``search_space``; never on Optuna or Ray.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "count_flops": "evaluators.flops",
    "FLOP_CONVENTION": "evaluators.flops",
    "measure_latency": "evaluators.latency",
    "train_and_evaluate": "evaluators.training",
    "evaluate": "evaluators.training",
    "DataConfig": "evaluators.config",
    "TrainConfig": "evaluators.config",
    "load_dataset": "evaluators.datasets",
    "list_datasets": "evaluators.datasets",
    "compute_proxy": "evaluators.proxies",
    "list_proxies": "evaluators.proxies",
    "plan_device": "evaluators.device",
    "TrainingFailed": "evaluators.errors",
    "UncountedOpError": "evaluators.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'evaluators' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
