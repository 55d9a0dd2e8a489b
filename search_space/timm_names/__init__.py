"""timm checkpoints -> weights for your own architecture file: one name map per family.

    arch = load_architecture("my_convnext_nano.yaml")    # any member of a supported family
    state_dict = convert_timm_state_dict(arch, timm_state_dict)
    build_model(arch).load_state_dict(state_dict)

The family is read from the architecture (stem, block types, head; see `timm_family`);
its ordered (regex, replacement) rules are derived from the architecture's stages and
from timm's own stage depths (read from the checkpoint's keys), so they serve every
member of a family, not only the zoo's. A tensor whose shape differs from ours only
by size-1 axes (a 1x1 conv used as a Linear) is reshaped; any other difference, a
missing key or an unexpected key is a one-line SpaceError naming the keys. timm is
not imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from search_space.architecture import Architecture
from search_space.errors import SpaceError
from search_space.timm_names.families import FAMILIES, timm_family
from search_space.timm_names.rules import DROP, rename

__all__ = [
    "FAMILIES",
    "TIMM_NAMES",
    "convert_timm_state_dict",
    "rename_timm_keys",
    "timm_family",
]

# zoo name -> the exact timm model name it reproduces (timm.create_model(NAME)).
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
    "convnext_nano": "convnext_nano",
    "efficientnet_b1": "efficientnet_b1",
    "mobilenetv3_small_100": "mobilenetv3_small_100",
    "regnetx_004": "regnetx_004",
    "regnety_004": "regnety_004",
    "deit_small_patch16_224": "deit_small_patch16_224",
    "coatnet_1_rw_224": "coatnet_1_rw_224",
}


def _architecture(arch: Architecture | str | Path) -> Architecture:
    from search_space.loader import load_architecture

    return arch if isinstance(arch, Architecture) else load_architecture(arch)


def rename_timm_keys(arch: Architecture | str | Path, keys: list[str]) -> dict[str, str]:
    """timm key -> our key for every key (DROP for tensors we do not keep)."""
    arch = _architecture(arch)
    rules = FAMILIES[timm_family(arch)].rules(arch, keys)
    return {key: rename(key, rules) for key in keys}


def convert_timm_state_dict(
    arch: Architecture | str | Path, state_dict: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """timm's state dict of the model `arch` describes -> our model's state dict.

    `arch` is an Architecture, or a file or zoo name that `load_architecture` reads.
    """
    from search_space.builder import build_model

    arch = _architecture(arch)
    family = timm_family(arch)
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised
        expected = build_model(arch).state_dict()
    names = rename_timm_keys(arch, list(state_dict))
    converted = {ours: state_dict[theirs] for theirs, ours in names.items() if ours != DROP}
    _check_keys(arch, family, names, converted, expected)
    for pattern, transform in FAMILIES[family].transforms(arch):
        converted.update({k: transform(v) for k, v in converted.items() if re.match(pattern, k)})
    return {key: _fit(key, value, expected[key].shape) for key, value in converted.items()}


def _check_keys(
    arch: Architecture, family: str, names: dict, converted: dict, expected: dict
) -> None:
    unexpected = [theirs for theirs, ours in names.items() if ours != DROP and ours not in expected]
    missing = [key for key in expected if key not in converted]
    if unexpected or missing:
        parts = []
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys {unexpected[:5]}")
        if missing:
            parts.append(f"{len(missing)} missing keys {missing[:5]}")
        raise SpaceError(
            f"the checkpoint does not match architecture {arch.name!r} ({'; '.join(parts)}); "
            f"pass a state dict of the timm {family} model whose stages the file describes"
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
