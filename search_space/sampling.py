"""Define-by-run sampling: the block is chosen first, then only the keys it reads.

A `Chooser` picks one value for a named parameter. `RandomChooser` is the seeded
sampler used by `nas sample`; the search bridges an Optuna trial to the same
protocol, so both walk the space in exactly the same order with the same names
(`stem.type`, `stages[0].block`, `stages[0].kernel`, ...).
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any, Protocol

from search_space.architecture import Architecture, HeadArch, StageArch, StemArch
from search_space.errors import SpaceError
from search_space.params import Choice, Fixed, IntRange, Param
from search_space.recipe import recipe_size, sample_recipe
from search_space.registry import BLOCKS, HEADS, STEMS
from search_space.space import STAGE_DEFAULTS, SearchSpace
from search_space.ties import TiedChooser


class Chooser(Protocol):
    def choose(self, name: str, param: Param) -> Any:
        """Returns one value of `param`; `name` is its key path, stable across samples."""


class RandomChooser:
    """Uniform choices from a seeded generator: the same seed gives the same samples."""

    def __init__(self, seed: int | None = 0):
        self.rng = random.Random(seed)

    def choose(self, name: str, param: Param) -> Any:
        if isinstance(param, Fixed):
            return param.value
        if isinstance(param, Choice):
            return self.rng.choice(param.options)
        if isinstance(param, IntRange):
            if param.log:
                value = math.exp(self.rng.uniform(math.log(param.low), math.log(param.high + 1)))
                return min(int(value), param.high)
            return self.rng.randrange(param.low, param.high + 1, param.step)
        if param.log:
            return math.exp(self.rng.uniform(math.log(param.low), math.log(param.high)))
        if param.step:
            return param.low + self.rng.randrange(param.size()) * param.step
        return self.rng.uniform(param.low, param.high)


class FixedChooser:
    """Takes only fixed values: turns a space with no choices left into an Architecture."""

    def __init__(self) -> None:
        self.free: list[str] = []

    def choose(self, name: str, param: Param) -> Any:
        if isinstance(param, Fixed):
            return param.value
        self.free.append(name)
        return param.values()[0]


def _options(prefix: str, params: dict[str, Param], declared: dict, chooser: Chooser) -> dict:
    return {k: chooser.choose(f"{prefix}.{k}", p) for k, p in params.items() if k in declared}


def _choose(chooser: Chooser, name: str, params: dict[str, Param], key: str, default: Any) -> Any:
    return chooser.choose(name, params[key]) if key in params else default


def sample_architecture(
    space: SearchSpace, chooser: Chooser, name: str | None = None
) -> Architecture:
    """Walks the space once, asking `chooser` for each value a chosen component reads
    (a tied choice once, under ``tied.<name>``)."""
    chooser = TiedChooser(chooser, space.tied_sites)
    stem_type = chooser.choose("stem.type", space.stem["type"])
    stem = StemArch(
        type=stem_type,
        width=chooser.choose("stem.width", space.stem["width"]),
        options=_options("stem", space.stem, STEMS.get(stem_type).OPTIONS, chooser),
    )
    stages = []
    for i, params in enumerate(space.stages):
        path = f"stages[{i}]"
        block = chooser.choose(f"{path}.block", params["block"])
        common = {
            key: _choose(chooser, f"{path}.{key}", params, key, default)
            for key, default in {"depth": None, "width": None, **STAGE_DEFAULTS}.items()
        }
        options = _options(path, params, BLOCKS.get(block).OPTIONS, chooser)
        stages.append(StageArch(block=block, **common, options=options))
    head_type = _choose(chooser, "head.type", space.head, "type", "classifier")
    head = HeadArch(head_type, _options("head", space.head, HEADS.get(head_type).OPTIONS, chooser))
    # The recipe's choices come last, so an architecture's names keep their order.
    run_config = sample_recipe(space.run_config, chooser)
    return Architecture(
        name or space.name, space.input, stem, tuple(stages), head, run_config=run_config
    )


def sample_architectures(space: SearchSpace, count: int, seed: int = 0) -> list[Architecture]:
    """`count` seeded samples, named `<space>-<seed>-<i>`."""
    chooser = RandomChooser(seed)
    return [sample_architecture(space, chooser, f"{space.name}-s{seed}-{i}") for i in range(count)]


def architecture_from_space(space: SearchSpace) -> Architecture:
    """The architecture of a space whose every value is fixed; SpaceError names what is not."""
    chooser = FixedChooser()
    arch = sample_architecture(space, chooser)
    free = space.free_parameters()
    if free:
        raise SpaceError(
            f"{space.source}: an architecture needs fixed values, but {', '.join(free[:4])}"
            f"{' ...' if len(free) > 4 else ''} still offer a choice; "
            f"pick one with `nas sample {space.source}`"
        )
    return arch


def space_size(space: SearchSpace) -> float:
    """Number of distinct candidates (inf with a continuous range), counting only read keys;
    the recipe's choices multiply it. A tied choice counts once (whether or not the block
    chosen at each of its keys reads it); a tied block or stem type is enumerated."""
    typed = {
        tie for path, tie in space.tied_sites.items() if path.rsplit(".", 1)[1] == _type_key(path)
    }
    others = math.prod(param.size() for name, param in space.ties.items() if name not in typed)
    total = 0.0
    for values in itertools.product(*(space.ties[name].values() for name in sorted(typed))):
        fixed = dict(zip(sorted(typed), values, strict=True))
        total += _untied_size(space, fixed)
    return total * others * recipe_size(space.run_config.get("train"))


def _type_key(path: str) -> str:
    part = path.rsplit(".", 1)[0]
    return "block" if part.startswith("stages[") else "type"


def _untied_size(space: SearchSpace, types: dict[str, Any]) -> float:
    """The size with every tied key counted as one value and tied types fixed to `types`."""

    def own(path: str, params: dict[str, Param]) -> dict[str, Param]:
        out = {}
        for key, param in params.items():
            tie = space.tied_sites.get(f"{path}.{key}")
            out[key] = param if tie is None else Fixed(types.get(tie, param.values()[0]))
        return out

    total = _component_size(own("stem", space.stem), "type", STEMS, ("type", "width"))
    for i, stage in enumerate(space.stages):
        total *= _component_size(
            own(f"stages[{i}]", stage),
            "block",
            BLOCKS,
            ("block", "depth", "width", "stride", "downsample"),
        )
    head = own("head", space.head)
    return total * _component_size(head, "type", HEADS, ("type",), default="classifier")


def _component_size(params, type_key, registry, common, default=None) -> float:
    common_size = math.prod(params[k].size() for k in common if k in params and k != type_key)
    types = params[type_key].values() if type_key in params else [default]
    per_type = [
        math.prod(p.size() for k, p in params.items() if k in registry.get(t).OPTIONS)
        for t in types
    ]
    return common_size * sum(per_type)
