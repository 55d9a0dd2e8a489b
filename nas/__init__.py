"""How we search: experiment config, Optuna samplers, the Ray Tune runner, the Pareto
front and export, and the `nas` command line.

Importing `nas` stays light (no torch, Optuna or Ray): each public function imports what
it needs when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

    from torch import nn

__all__ = ["load_model"]


def load_model(path: str | os.PathLike, *, device: str = "cpu") -> nn.Module:
    """The trained model of an export folder (`RUN/export/<trial>`) or a trial folder, in
    eval mode; reads arch.yaml (safe_load) and weights.safetensors, never a pickle."""
    from nas.load import load_model as load

    return load(path, device=device)
