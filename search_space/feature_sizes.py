"""Follows the feature-map size from the input through the stem and every stage."""

from __future__ import annotations

from typing import Any

from search_space.combinations import option_combinations, type_names
from search_space.component import Size
from search_space.registry import BLOCKS, STEMS, TRANSITIONS
from search_space.space import BLOCK_DOWNSAMPLES, SearchSpace


def downsample_modes() -> tuple[str, ...]:
    """Every valid ``downsample``: the first block's own modes, then each registered
    transition (a layer of its own before the stage's blocks), plug-ins included."""
    return (*BLOCK_DOWNSAMPLES, *TRANSITIONS.names())


def is_transition(downsample: str) -> bool:
    """True when `downsample` is a layer of its own rather than the first block's stride."""
    return downsample not in BLOCK_DOWNSAMPLES and downsample in TRANSITIONS


def stage_output_size(block: str, size: Size, stride: int, downsample: str) -> Size:
    """Size after a stage whose first block (or transition layer) has stride `stride`."""
    if is_transition(downsample) and stride > 1:
        return TRANSITIONS.get(downsample).output_size(size, stride)
    return BLOCKS.get(block).output_size(size, stride)


def shrink_problem(path: str, size: Size, stride: int, trail: list[int]) -> str | None:
    """A stride larger than the map it is applied to leaves nothing to downsample."""
    if stride > 1 and min(size) < stride:
        steps = " -> ".join(str(s) for s in [*trail, size[0]])
        return (
            f"{path}.stride: {stride} is applied to a {size[0]}x{size[1]} feature map "
            f"({steps}); the input resolution is too small for this many downsamplings "
            "(lower a stride or raise input.resolution)"
        )
    return None


def stage_input_sizes(space: SearchSpace) -> tuple[list[set[Size]], bool, list[str]]:
    """Every size each stage may see, whether the stem may emit tokens, and size problems."""
    start = (space.input.resolution, space.input.resolution)
    sizes: set[Size] = set()
    tokens = False
    problems: list[str] = []
    for name in type_names(space.stem, "type"):
        cls = STEMS.get(name)
        for options in option_combinations(cls, space.stem, cls.OPTIONS):
            size = cls.output_size(start, options)
            tokens = tokens or cls.emits_tokens(options)
            if min(size) < 1:
                problems.append(
                    f"stem: type {name!r} with {options} turns the "
                    f"{start[0]}x{start[1]} input into {size[0]}x{size[1]}"
                )
            else:
                sizes.add(size)
    per_stage: list[set[Size]] = []
    for i, stage in enumerate(space.stages):
        per_stage.append(sizes)
        sizes, stage_problems = _next_sizes(f"stages[{i}]", stage, sizes, start[0])
        problems += stage_problems
    return per_stage, tokens, list(dict.fromkeys(problems))


def _next_sizes(path: str, stage: dict[str, Any], sizes: set[Size], start: int):
    strides = stage["stride"].values() if "stride" in stage else [1]
    modes = stage["downsample"].values() if "downsample" in stage else ["block"]
    out: set[Size] = set()
    problems = []
    for size in sizes:
        for stride in strides:
            problem = shrink_problem(path, size, stride, [start])
            if problem:
                problems.append(problem)
                continue
            for block in stage["block"].values():
                for mode in modes:
                    out.add(stage_output_size(block, size, stride, mode))
    return out, problems[:1]


def architecture_sizes(arch: Any) -> list[Size]:
    """Input size of each stage of a concrete architecture, then the final size."""
    stem = STEMS.get(arch.stem.type)
    size = stem.output_size((arch.input.resolution,) * 2, arch.stem.full_options())
    sizes = [size]
    for stage in arch.stages:
        size = stage_output_size(stage.block, size, stage.stride, stage.downsample)
        sizes.append(size)
    return sizes
