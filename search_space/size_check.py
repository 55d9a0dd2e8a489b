"""The ``limits:`` caps applied: the largest candidates of a space measured on PyTorch's
``meta`` device (shapes only, no memory, no compute) before any real model is built.
See ``limits.py`` for the caps themselves and why they exist.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from search_space.builder import build_model, count_params
from search_space.limits import BYTES_PER_VALUE, DEFAULT_BATCH, SMALLER_IS_LARGER, parse_limits
from search_space.params import Choice, Fixed, parse_param
from search_space.sampling import sample_architecture


def size_problems(space: Any) -> list[str]:
    """One line per cap the largest candidate passes; empty when every candidate fits."""
    limits = parse_limits(space.run_config.get("limits"))[0]
    batch = _batch_size(space.run_config)
    params, largest_map = 0, 0
    for arch in largest_candidates(space):
        try:
            arch_params, arch_map = measure_on_meta(arch)
        except (RuntimeError, ValueError) as error:  # torch refused a shape: one line
            why = str(error).strip().splitlines()[0] if str(error).strip() else ""
            return [
                f"the candidate {arch.summary()!r} cannot run an image "
                f"({type(error).__name__}: {why[:200]}); change the widths or options it uses"
            ]
        params = max(params, arch_params)
        largest_map = max(largest_map, arch_map)
    problems = []
    if params > limits["max_params"]:
        problems.append(
            f"the largest candidate has {params:,} parameters, above limits.max_params "
            f"{limits['max_params']:,.0f}; shrink widths or depths, or raise the cap"
        )
    feature_bytes = largest_map * batch * BYTES_PER_VALUE
    if feature_bytes > limits["max_feature_map_bytes"]:
        problems.append(
            f"the largest feature map of the largest candidate takes {feature_bytes / 2**30:,.1f} "
            f"GiB at batch {batch} ({largest_map:,} values per image), above "
            f"limits.max_feature_map_bytes ({limits['max_feature_map_bytes'] / 2**30:,.1f} GiB); "
            "lower input.resolution, widths or train.batch_size, or raise the cap"
        )
    return problems


def _batch_size(run_config: dict[str, Any]) -> int:
    train = run_config.get("train")
    batch = train.get("batch_size") if isinstance(train, dict) else None
    if isinstance(batch, list | dict):  # a recipe choice: the largest batch it offers
        values = parse_param(batch, "train.batch_size").values()
        batch = max((v for v in values if isinstance(v, int)), default=None)
    valid = isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1
    return batch if valid else DEFAULT_BATCH


class LargestChooser:
    """Picks the largest number of every choice or range, and the `index`-th name of
    every categorical choice (so that each block choice is tried once)."""

    def __init__(self, index: int):
        self.index = index

    def choose(self, name: str, param: Any) -> Any:
        if isinstance(param, Fixed):
            return param.value
        smaller = name.rsplit(".", 1)[-1] in SMALLER_IS_LARGER
        if isinstance(param, Choice):
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in param.options):
                return min(param.options) if smaller else max(param.options)
            return param.options[self.index % len(param.options)]
        return param.low if smaller else param.high


def largest_candidates(space: Any) -> list[Any]:
    """One largest architecture per position in the longest categorical choice."""
    longest = max(
        (
            len(p.options)
            for _, params in space.components()
            for p in params.values()
            if isinstance(p, Choice)
        ),
        default=1,
    )
    return [sample_architecture(space, LargestChooser(i)) for i in range(longest)]


def measure_on_meta(arch: Any) -> tuple[int, int]:
    """(parameters, values in the largest module output for one image) of `arch`.

    Built on the meta device with every stage cut to at most two blocks; the parameters
    of the blocks cut away are those of the second block, times how many were cut.
    """
    shallow = replace(arch, stages=tuple(replace(s, depth=min(s.depth, 2)) for s in arch.stages))
    largest = [0]

    def record(module: Any, inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            largest[0] = max(largest[0], output.numel())

    with torch.device("meta"):
        model = build_model(shallow)
    for module in model.modules():
        module.register_forward_hook(record)
    size = arch.input.resolution
    # Outside the device context: it intercepts every op and would double the time.
    with torch.no_grad():
        model.eval()(torch.empty(1, arch.input.channels, size, size, device="meta"))
    params = count_params(model)
    for stage, module in zip(arch.stages, model.stages, strict=True):
        params += max(stage.depth - 2, 0) * count_params(module[-1])
    return params, largest[0]
