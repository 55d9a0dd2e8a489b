"""Builds a torch module from an Architecture: the stem, a loop over stages, the head."""

from __future__ import annotations

import torch
from torch import nn

import search_space.blocks
import search_space.heads
import search_space.stems
import search_space.transitions  # noqa: F401  (registers every component)
from search_space.architecture import Architecture, StageArch
from search_space.component import Size
from search_space.feature_sizes import is_transition
from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS


class Network(nn.Module):
    """stem -> stages[0..n-1] -> head. Children are named so that per-stage counts read
    `stem`, `stages.0`, ..., `head`."""

    def __init__(self, stem: nn.Module, stages: list[nn.Module], head: nn.Module):
        super().__init__()
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        self.head = head

    def forward_features(self, images: torch.Tensor) -> torch.Tensor:
        x = self.stem(images)  # (N, C, H, W), or (N, T, C) tokens after a class-token stem
        for stage in self.stages:
            x = stage(x)
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(images))  # (N, classes)


def build_stage(stage: StageArch, in_chs: int, input_size: Size) -> tuple[nn.Sequential, Size]:
    """The stage's layers and the feature size after it."""
    block_cls = BLOCKS.get(stage.block)
    options = stage.full_options()
    layers: list[nn.Module] = []
    stride, shortcut, size = (
        stage.stride,
        "pool" if stage.downsample == "pool" else "conv",
        input_size,
    )
    if is_transition(stage.downsample) and (stride > 1 or in_chs != stage.width):
        transition = TRANSITIONS.get(stage.downsample)
        norm, eps = options.get("norm", "layer"), options.get("norm_eps")
        layers.append(transition(in_chs, stage.width, stride, norm=norm, eps=eps))
        size = transition.output_size(size, stride)
        in_chs, stride = stage.width, 1
    for index in range(stage.depth):
        layers.append(
            block_cls(
                in_chs,
                stage.width,
                stride,
                input_size=size,
                index=index,
                shortcut=shortcut,
                **options,
            )
        )
        size = block_cls.output_size(size, stride)
        in_chs, stride = stage.width, 1
    return nn.Sequential(*layers), size


def build_model(arch: Architecture) -> Network:
    """The torch module for `arch`, freshly initialised."""
    stem_cls = STEMS.get(arch.stem.type)
    stem_options = arch.stem.full_options()
    size = (arch.input.resolution, arch.input.resolution)
    stem = stem_cls(arch.input.channels, arch.stem.width, input_size=size, **stem_options)
    size = stem_cls.output_size(size, stem_options)
    stages, in_chs = [], arch.stem.width
    for stage in arch.stages:
        module, size = build_stage(stage, in_chs, size)
        stages.append(module)
        in_chs = stage.width
    head = HEADS.get(arch.head.type)(in_chs, arch.input.classes, **arch.head.full_options())
    return Network(stem, stages, head)


def count_params(model: nn.Module) -> int:
    """Trainable and frozen parameters, as timm and the papers count them."""
    return sum(p.numel() for p in model.parameters())


def params_by_stage(model: Network) -> dict[str, int]:
    """Parameters of `stem`, `stages.0` ... and `head`."""
    counts = {"stem": count_params(model.stem)}
    counts.update({f"stages.{i}": count_params(s) for i, s in enumerate(model.stages)})
    counts["head"] = count_params(model.head)
    return counts
