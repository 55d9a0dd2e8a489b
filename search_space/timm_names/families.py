"""Which timm family an architecture belongs to, read from its stem, blocks and head.

A family's renaming rules are a function of the architecture (its stage count, depths
and block types) and of timm's keys (timm's own stage depths), so they serve every
member of the family, not only the zoo's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from search_space.architecture import Architecture
from search_space.errors import SpaceError
from search_space.timm_names import coatnet, convnets, mobile, resnets, transformers
from search_space.timm_names.rules import Rules

RulesFor = Callable[[Architecture, Sequence[str]], Rules]
Transform = tuple[str, Callable[[torch.Tensor], torch.Tensor]]


@dataclass(frozen=True)
class Family:
    timm_module: str  # the timm file whose models these rules read, e.g. "resnet.py"
    rules: RulesFor
    transforms: Callable[[Architecture], list[Transform]] = field(default=lambda arch: [])


def _fixed(rules: Rules) -> RulesFor:
    return lambda arch, keys: rules


FAMILIES: dict[str, Family] = {
    "resnet": Family("resnet.py", resnets.resnet),
    "regnet": Family("regnet.py", resnets.regnet),
    "bit": Family("resnetv2.py", resnets.bit),
    "efficientnet": Family("efficientnet.py / mobilenetv3.py", mobile.efficientnet),
    "convnext": Family("convnext.py", _fixed(convnets.CONVNEXT)),
    "poolformer": Family("metaformer.py", _fixed(convnets.POOLFORMER)),
    "vit": Family("vision_transformer.py", _fixed(transformers.VIT)),
    "cait": Family("cait.py", _fixed(transformers.CAIT)),
    "swin": Family("swin_transformer.py", _fixed(transformers.SWIN)),
    "mixer": Family("mlp_mixer.py", _fixed(transformers.MIXER)),
    "coatnet": Family("maxxvit.py", coatnet.rules, coatnet.transforms),
}


def timm_family(arch: Architecture) -> str:
    """The family whose timm names `arch` uses: read from its stem, block types and head."""
    blocks = {stage.block for stage in arch.stages}
    for name, test in _TESTS:
        if test(arch, blocks):
            return name
    raise SpaceError(
        f"no timm name map for architecture {arch.name!r} (stem {arch.stem.type}, blocks "
        f"{', '.join(sorted(blocks))}); convertible families: {', '.join(FAMILIES)}"
    )


def _windowed(arch: Architecture) -> bool:
    return any(s.options.get("window") or s.downsample == "patch_merge" for s in arch.stages)


_TESTS: list[tuple[str, Callable[[Architecture, set[str]], bool]]] = [
    ("bit", lambda arch, blocks: blocks == {"preact_bottleneck"}),
    (
        "resnet",
        lambda arch, blocks: arch.stem.type == "resnet" and blocks <= {"resnet", "bottleneck"},
    ),
    ("regnet", lambda arch, blocks: arch.stem.type == "conv" and blocks == {"bottleneck"}),
    ("coatnet", lambda arch, blocks: blocks == {"mbconv", "attention"}),
    ("efficientnet", lambda arch, blocks: blocks <= {"mbconv", "fused_mbconv", "conv"}),
    ("convnext", lambda arch, blocks: blocks == {"convnext"}),
    ("poolformer", lambda arch, blocks: blocks == {"poolformer"}),
    ("mixer", lambda arch, blocks: blocks == {"mixer"}),
    ("cait", lambda arch, blocks: blocks == {"attention"} and arch.head.type == "class_attention"),
    ("swin", lambda arch, blocks: blocks == {"attention"} and _windowed(arch)),
    ("vit", lambda arch, blocks: blocks == {"attention"} and arch.stem.type == "patchify"),
]
