"""timm checkpoints -> our zoo models: one explicit name map per family, no timm import.

    state_dict = convert_timm_state_dict("resnet50", timm_state_dict)
    build_model(load_architecture("resnet50")).load_state_dict(state_dict)

Each family module lists ordered (regex, replacement) rules over state-dict keys. A
tensor whose shape differs from ours only by size-1 axes (a 1x1 conv used as a
Linear) is reshaped; any other difference, a missing key or an unexpected key is a
SpaceError naming the keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import torch

from search_space.errors import SpaceError, one_of
from search_space.timm_names import coatnet, convnets, mobile, resnets, transformers
from search_space.timm_names.rules import DROP, Rules, rename

# zoo name -> timm model name (the zoo files are named after timm's models where possible).
TIMM_NAMES = {
    "resnet18": "resnet18",
    "resnet50": "resnet50",
    "resnext50_32x4d": "resnext50_32x4d",
    "resnetv2_50x1_bit": "resnetv2_50x1_bit",
    "mobilenetv3_large_100": "mobilenetv3_large_100",
    "efficientnetv2_rw_t": "efficientnetv2_rw_t",
    "coatnet_0": "coatnet_0_224",
    "convnext_tiny": "convnext_tiny",
    "poolformer_s12": "poolformer_s12",
    "vit_small_patch16": "vit_small_patch16_224",
    "cait_xxs24_224": "cait_xxs24_224",
    "swin_small_patch4_window7_224": "swin_small_patch4_window7_224",
    "mixer_b16_224": "mixer_b16_224",
}

# zoo name -> rules, or a function of our stage depths giving them.
_RULES: dict[str, Rules | Callable[[list[int]], Rules]] = {
    "resnet18": resnets.BASIC,
    "resnet50": resnets.BOTTLENECK,
    "resnext50_32x4d": resnets.BOTTLENECK,
    "resnetv2_50x1_bit": resnets.RESNETV2,
    "mobilenetv3_large_100": mobile.mobilenetv3,
    "efficientnetv2_rw_t": mobile.efficientnetv2_rw_t,
    "coatnet_0": coatnet.RULES,
    "convnext_tiny": convnets.CONVNEXT,
    "poolformer_s12": convnets.POOLFORMER,
    "vit_small_patch16": transformers.VIT,
    "cait_xxs24_224": transformers.CAIT,
    "swin_small_patch4_window7_224": transformers.SWIN,
    "mixer_b16_224": transformers.MIXER,
}

# zoo name -> (regex on our key, function) for the few tensors whose layout differs.
_TRANSFORMS: dict[str, list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]]] = {
    "coatnet_0": coatnet.TRANSFORMS,
}


def convertible_models() -> list[str]:
    return sorted(_RULES)


def rename_timm_keys(zoo_name: str, keys: list[str], depths: list[int]) -> dict[str, str]:
    """timm key -> our key for every key (DROP for tensors we do not keep)."""
    if zoo_name not in _RULES:
        raise SpaceError(
            f"no timm name map for {zoo_name!r}; choose {one_of(convertible_models())}"
        )
    rules = _RULES[zoo_name]
    rules = rules(depths) if callable(rules) else rules
    return {key: rename(key, rules) for key in keys}


def convert_timm_state_dict(
    zoo_name: str, state_dict: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """timm's state dict of the model behind zoo `zoo_name` -> our model's state dict."""
    from search_space.builder import build_model
    from search_space.loader import load_architecture

    if zoo_name not in _RULES:
        raise SpaceError(
            f"no timm name map for {zoo_name!r}; choose {one_of(convertible_models())}"
        )
    arch = load_architecture(zoo_name)
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised
        expected = build_model(arch).state_dict()
    names = rename_timm_keys(zoo_name, list(state_dict), [s.depth for s in arch.stages])
    converted = {ours: state_dict[theirs] for theirs, ours in names.items() if ours != DROP}
    _check_keys(zoo_name, names, converted, expected)
    for pattern, transform in _TRANSFORMS.get(zoo_name, []):
        converted.update({k: transform(v) for k, v in converted.items() if re.match(pattern, k)})
    return {key: _fit(key, value, expected[key].shape) for key, value in converted.items()}


def _check_keys(zoo_name: str, names: dict, converted: dict, expected: dict) -> None:
    unexpected = [theirs for theirs, ours in names.items() if ours != DROP and ours not in expected]
    missing = [key for key in expected if key not in converted]
    if unexpected or missing:
        parts = []
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}")
        if missing:
            parts.append(f"missing keys {missing[:5]}")
        raise SpaceError(
            f"the checkpoint does not match zoo model {zoo_name!r} ({'; '.join(parts)}); "
            f"pass a state dict of timm's {TIMM_NAMES[zoo_name]!r}"
        )


def _fit(key: str, value: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    if value.shape == shape:
        return value
    if [d for d in value.shape if d != 1] == [d for d in shape if d != 1]:
        return value.reshape(shape)  # e.g. a 1x1 conv (O, I, 1, 1) as our Linear (O, I)
    raise SpaceError(
        f"checkpoint tensor {key!r} has shape {tuple(value.shape)}, our model needs "
        f"{tuple(shape)}; is it the same model?"
    )
