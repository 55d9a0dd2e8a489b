"""Checks a parsed space before anything is sampled or trained.

Every combination the space allows must build: each value is checked against the
key's declared Option for every component type that may read it, every pair of
width and cross-checked keys (heads, windows, groups) is tried with the block's
own ``check``, and the feature-map size is followed through every stride.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import search_space.blocks
import search_space.heads
import search_space.stems
import search_space.transitions  # noqa: F401  (registers every component)
from search_space.combinations import option_combinations, type_names
from search_space.component import Size
from search_space.errors import SpaceError, describe, did_you_mean, one_of
from search_space.feature_sizes import downsample_modes, is_transition, stage_input_sizes
from search_space.params import FloatRange, IntRange, Param
from search_space.registry import BLOCKS, HEADS, STEMS, Registry
from search_space.space import HEAD_KEYS, STAGE_KEYS, STEM_KEYS, SearchSpace

MAX_PROBLEMS_PER_CHECK = 2  # one bad pair is enough to show; more would bury the other lines


# (lowest, highest) of the keys every stem and stage reads. Wide enough for any published
# network (ResNet-1001, 8192-wide layers); the limits: caps then bound the model as a whole.
COMMON_RANGES = {"width": (1, 16384), "depth": (1, 1000), "stride": (1, 64)}


def validate_space(space: SearchSpace) -> None:
    """Raises SpaceError, one line per problem; returns quietly when every combination builds."""
    problems = _check_keys(space)
    if not problems:
        problems = _check_sizes_and_combinations(space)
    if not problems:
        from search_space.size_check import size_problems

        problems = size_problems(space)
    if problems:
        raise SpaceError(list(dict.fromkeys(problems)))


def _check_keys(space: SearchSpace) -> list[str]:
    problems = _check_component("stem", space.stem, STEM_KEYS, "type", STEMS, required=STEM_KEYS)
    problems += _check_stage_numbers("stem", {k: v for k, v in space.stem.items() if k == "width"})
    for i, stage in enumerate(space.stages):
        path = f"stages[{i}]"
        problems += _check_component(
            path, stage, STAGE_KEYS, "block", BLOCKS, required=("block", "depth", "width")
        )
        problems += _check_stage_numbers(path, stage)
    problems += _check_component("head", space.head, HEAD_KEYS, "type", HEADS, default="classifier")
    return problems


def _check_component(
    path: str,
    params: dict[str, Param],
    common_keys: Iterable[str],
    type_key: str,
    registry: Registry,
    *,
    required: Iterable[str] = (),
    default: str | None = None,
) -> list[str]:
    problems = [f"{path}.{key}: required key is missing" for key in required if key not in params]
    types = type_names(params, type_key, default)
    bad_types = [t for t in types if t not in registry]
    for name in bad_types:
        problems.append(
            f"{path}.{type_key}: unknown {registry.kind} {describe(name)}"
            f"{did_you_mean(name, registry.names())}; choose {one_of(registry.names())}"
        )
    if bad_types:
        return problems
    classes = [registry.get(t) for t in types]
    for key, param in params.items():
        if key in common_keys:
            continue
        readers = [cls for cls in classes if key in cls.OPTIONS]
        if not readers:
            problems.append(_unread_key(path, key, types, type_key, registry))
            continue
        for cls in readers:
            problems += _check_values(f"{path}.{key}", param, cls.OPTIONS[key], cls.NAME)
    return problems


def _unread_key(path: str, key: str, types: list[str], type_key: str, registry: Registry) -> str:
    readers = [name for name in registry.names() if key in registry.get(name).OPTIONS]
    if readers:
        return (
            f"{path}.{key}: only {registry.kind} type(s) {', '.join(readers)} read this key, "
            f"and this {registry.kind} never chooses them ({type_key}: {types}); remove it"
        )
    known = {k for name in registry.names() for k in registry.get(name).OPTIONS}
    return f"{path}.{key}: unknown key{did_you_mean(key, known | {type_key})}"


def _check_values(path: str, param: Param, option: Any, reader: str) -> list[str]:
    if isinstance(param, FloatRange) and option.kind is not float:
        return [f"{path}: a float range, but {reader} needs {option._expected()}"]
    if isinstance(param, IntRange | FloatRange) and option.kind in (str, bool):
        return [f"{path}: a range, but {reader} needs {option._expected()}"]
    problems = []
    for value in param.values():
        problem = option.problem(value)
        if problem:
            problems.append(f"{path}: {problem}{did_you_mean(value, option.choices or ())}")
    return problems


def _check_stage_numbers(path: str, stage: dict[str, Param]) -> list[str]:
    problems = []
    for key, (low, high) in COMMON_RANGES.items():
        for value in stage[key].values() if key in stage else []:
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                problems.append(
                    f"{path}.{key}: {describe(value)} must be an integer from {low} to {high:,}"
                )
    modes = downsample_modes()
    for value in stage["downsample"].values() if "downsample" in stage else []:
        if not isinstance(value, str) or value not in modes:
            problems.append(
                f"{path}.downsample: unknown mode {describe(value)}"
                f"{did_you_mean(value, modes)}; choose {one_of(modes)}"
            )
    return problems


def _check_sizes_and_combinations(space: SearchSpace) -> list[str]:
    problems = _check_stem(space)
    if problems:
        return problems
    sizes, tokens, problems = stage_input_sizes(space)
    if problems:
        return problems
    previous_widths = [w for w in space.stem["width"].values()]
    for i, stage in enumerate(space.stages):
        problems += _check_stage_blocks(f"stages[{i}]", stage, sizes[i], previous_widths[0], tokens)
        previous_widths = stage["width"].values()
    problems += _check_head(space, tokens)
    return problems


def _check_stage_blocks(
    path: str, stage: dict[str, Param], input_sizes: set[Size], in_chs: int, tokens: bool
) -> list[str]:
    problems = []
    strides = stage["stride"].values() if "stride" in stage else [1]
    downsamples = stage["downsample"].values() if "downsample" in stage else ["block"]
    for name in stage["block"].values():
        cls = BLOCKS.get(name)
        if tokens:
            problems += _token_problems(path, name, cls, stage, strides)
        found = 0
        for options in option_combinations(cls, stage, cls.CHECK_KEYS):
            for width, stride, size, mode in itertools.product(
                stage["width"].values(), strides, sorted(input_sizes), downsamples
            ):
                block_stride = 1 if is_transition(mode) else stride
                for problem in cls.check(
                    in_chs=in_chs,
                    out_chs=width,
                    stride=block_stride,
                    input_size=size,
                    options=options,
                ):
                    problems.append(
                        f"{path}: block {name!r} with width {width}, {_fmt(options)}"
                        f"input {size[0]}x{size[1]}: {problem}"
                    )
                    found += 1
                if found >= MAX_PROBLEMS_PER_CHECK:
                    break
            if found >= MAX_PROBLEMS_PER_CHECK:
                break
    return problems


def _token_problems(path: str, name: str, cls: Any, stage: dict, strides: list) -> list[str]:
    """After a class-token stem the features are a sequence (N, 1 + H*W, C), not a map."""
    if not cls.TOKENS_OK:
        return [
            f"{path}.block: {name!r} needs an image layout, but the stem may emit a "
            "class-token sequence; use attention blocks or drop class_token"
        ]
    for options in option_combinations(cls, stage, cls.OPTIONS):
        for stride in strides:
            found = cls.token_problems(stride=stride, options=options)
            if found:
                return [f"{path}: block {name!r} with stride {stride}, {_fmt(options)}{found[0]}"]
    return []


def _check_stem(space: SearchSpace) -> list[str]:
    """Every stem type and option combination with the stem's own `check` ("KEY: why")."""
    start = (space.input.resolution, space.input.resolution)
    problems = []
    for name in type_names(space.stem, "type"):
        cls = STEMS.get(name)
        for options in option_combinations(cls, space.stem, cls.OPTIONS):
            for width in space.stem["width"].values():
                found = cls.check(out_chs=width, input_size=start, options=options)
                if found:
                    problems.append(f"stem.{found[0]}")
                    break
            if len(set(problems)) >= MAX_PROBLEMS_PER_CHECK:
                return problems
    return problems


def _check_head(space: SearchSpace, tokens: bool) -> list[str]:
    """Every head type and option combination against every width the last stage may
    take; a head's problems read "KEY: why", and the first of each combination is shown."""
    problems = []
    for name in type_names(space.head, "type", "classifier"):
        cls = HEADS.get(name)
        for options in option_combinations(cls, space.head, cls.OPTIONS):
            for width in space.stages[-1]["width"].values():
                found = cls.check(in_chs=width, tokens=tokens, options=options)
                if found:
                    problems.append(f"head.{found[0]}")
                    break
            if len(set(problems)) >= MAX_PROBLEMS_PER_CHECK:
                return problems
    return problems


def _fmt(options: dict) -> str:
    return "".join(f"{k} {v}, " for k, v in options.items())
