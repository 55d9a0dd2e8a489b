"""Activation functions by name."""

from __future__ import annotations

from torch import nn

from search_space.errors import SpaceError, did_you_mean, one_of

# "tanh", "hard_sigmoid", "sigmoid" and "none" are not offered as a block's `act` in YAML
# (see options.ACTS); heads and squeeze-excite gates use them.
_ACTS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "gelu": nn.GELU,  # exact erf form, as in ViT, ConvNeXt and CoAtNet
    "silu": nn.SiLU,
    "hard_swish": nn.Hardswish,  # MobileNetV3: x * relu6(x + 3) / 6
    "hard_sigmoid": nn.Hardsigmoid,  # MobileNetV3's squeeze-excite gate: relu6(x + 3) / 6
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "none": nn.Identity,
}


def make_act(name: str) -> nn.Module:
    """Returns a new activation module for `name` ("none" is the identity)."""
    try:
        return _ACTS[name]()
    except (KeyError, TypeError):
        raise SpaceError(
            f"unknown activation {name!r}{did_you_mean(name, _ACTS)}; choose {one_of(_ACTS)}"
        ) from None
