"""Activation functions by name."""

from __future__ import annotations

from torch import nn

from search_space.errors import SpaceError, did_you_mean, one_of

# "tanh" is not offered in YAML (see options.ACTS); the classifier's pre-logits use it.
_ACTS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "gelu": nn.GELU,  # exact erf form, as in ViT, ConvNeXt and CoAtNet
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


def make_act(name: str) -> nn.Module:
    """Returns a new activation module for `name`."""
    try:
        return _ACTS[name]()
    except (KeyError, TypeError):
        raise SpaceError(
            f"unknown activation {name!r}{did_you_mean(name, _ACTS)}; choose {one_of(_ACTS)}"
        ) from None
