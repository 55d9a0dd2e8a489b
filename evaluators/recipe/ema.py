"""Exponential moving average of a model's weights and buffers, scored in its place.

Built on ``torch.optim.swa_utils.AveragedModel`` with ``get_ema_multi_avg_fn``. The
average starts as a copy of the initial weights, and its decay is warmed up as in
TensorFlow's ``ExponentialMovingAverage(num_updates=...)``: after t updates it is
``min(decay, (1 + t) / (10 + t))``. Short runs (a search trains ~100 steps) would
otherwise score a model still ~90% made of its random initialization at decay 0.999.
BatchNorm's running statistics are buffers and are averaged with the weights
(``use_buffers=True``), so the average is scored with statistics that match it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def warmed_decay(decay: float, updates: int) -> float:
    """The decay used for the update after `updates` earlier ones."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


class WeightAverage:
    """The EMA copy of `model`; call ``update()`` after every optimizer step."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay, self.updates = decay, 0
        self.averaged = AveragedModel(model, multi_avg_fn=self._average, use_buffers=True)
        self.source = model
        self.averaged.update_parameters(model)  # the first update copies: EMA_0 = W_0

    def _average(self, averages: list, currents: list, count: torch.Tensor) -> None:
        # A host-side counter: reading `count` would sync the device every step.
        get_ema_multi_avg_fn(warmed_decay(self.decay, self.updates))(averages, currents, count)

    def update(self) -> None:
        self.averaged.update_parameters(self.source)
        self.updates += 1

    @property
    def module(self) -> nn.Module:
        """The averaged network (what is scored)."""
        return self.averaged.module

    def copy_to_source(self) -> None:
        """Loads the averaged weights and buffers into the trained model, so the model
        that is returned, saved and exported is the one that was scored."""
        self.source.load_state_dict(self.averaged.module.state_dict())
