"""Bridges between Optuna and the space's `Chooser` protocol.

`OptunaChooser` lets an Optuna trial pick the values: `sample_architecture` walks the
space define-by-run (the block first, then only the keys that block reads), so Optuna
sees conditional parameters under stable names such as ``stages[1].heads``.
`ArchitectureChooser` goes the other way: it reads a known architecture's values under
the same names, giving the parameters to enqueue as a seed trial (``--seed-archs``).
Recipe choices are named ``train.<key>`` (search_space/recipe.py), so they never clash.
"""

from __future__ import annotations

import re
from typing import Any

import optuna

from search_space.architecture import Architecture
from search_space.errors import SpaceError
from search_space.params import Choice, Fixed, FloatRange, IntRange, Param
from search_space.recipe import PREFIX
from search_space.sampling import sample_architecture
from search_space.space import SearchSpace


class OptunaChooser:
    """Choice -> suggest_categorical, IntRange -> suggest_int, FloatRange -> suggest_float."""

    def __init__(self, trial: optuna.Trial):
        self.trial = trial

    def choose(self, name: str, param: Param) -> Any:
        if isinstance(param, Fixed):
            return param.value
        if isinstance(param, Choice):
            if len(param.options) == 1:
                return param.options[0]
            return self.trial.suggest_categorical(name, list(param.options))
        if isinstance(param, IntRange):
            return self.trial.suggest_int(
                name, param.low, param.high, step=param.step, log=param.log
            )
        return self.trial.suggest_float(name, param.low, param.high, step=param.step, log=param.log)


_NAME = re.compile(r"^(stem|head|stages\[(\d+)\])\.(\w+)$")


class ArchitectureChooser:
    """Answers every choice with the value `arch` has under that name; records the free ones.

    A value the space does not offer is a SpaceError naming the key, so a seed architecture
    that does not fit the space is refused before the search starts.
    """

    def __init__(self, arch: Architecture, label: str):
        self.arch, self.label = arch, label
        self.params: dict[str, Any] = {}

    def choose(self, name: str, param: Param) -> Any:
        if isinstance(param, Fixed):
            return param.value
        if name.startswith(PREFIX):
            return self._recipe_value(name, param)
        value = self._value(name)
        if not _offers(param, value):
            raise SpaceError(
                f"{self.label}: {name} is {value!r}, which the space does not offer "
                f"({_describe(param)})"
            )
        self.params[name] = value
        return value

    def choose_tied(self, name: str, site: str, param: Param) -> Any:
        """A tied choice (`name` is ``tied.<name>``) read at key `site`: the architecture's
        value there, which must agree with every other key reading the same choice."""
        value = self.choose(site, param)
        del self.params[site]
        if name in self.params and self.params[name] != value:
            raise SpaceError(
                f"{self.label}: {site} is {value!r}, but the tied choice {name} it reads "
                f"was {self.params[name]!r} at an earlier key; tied keys take one value"
            )
        self.params[name] = value
        return value

    def _recipe_value(self, name: str, param: Param) -> Any:
        """A seed's own train value when the space offers it; else the sampler picks (a
        seed file's recipe is its author's, not a constraint on the search)."""
        value = (self.arch.run_config.get("train") or {}).get(name[len(PREFIX) :])
        if value is None or not _offers(param, value):
            return param.values()[0]  # not recorded: Optuna samples it for the seed trial
        self.params[name] = value
        return value

    def _value(self, name: str) -> Any:
        match = _NAME.match(name)
        if not match:
            raise SpaceError(f"{self.label}: cannot read {name} from an architecture")
        part, index, key = match.groups()
        if index is not None:
            component = self.arch.stages[int(index)]
            common = ("block", "depth", "width", "stride", "downsample")
        else:
            component = self.arch.stem if part == "stem" else self.arch.head
            common = ("type", "width")
        if key in common and hasattr(component, key):
            return getattr(component, key)
        options = component.full_options()
        if key not in options:
            raise SpaceError(f"{self.label}: has no value for {name}")
        return options[key]


def architecture_params(space: SearchSpace, arch: Architecture, label: str) -> dict[str, Any]:
    """The Optuna parameters under which `space` yields `arch` (for `study.enqueue_trial`)."""
    if len(arch.stages) != len(space.stages):
        raise SpaceError(
            f"{label}: has {len(arch.stages)} stages but the space has "
            f"{len(space.stages)}; rescale it to the space's stages first"
        )
    chooser = ArchitectureChooser(arch, label)
    sample_architecture(space, chooser)
    return chooser.params


def _offers(param: Param, value: Any) -> bool:
    if isinstance(param, Choice):
        return any(
            (value == option and type(value) is type(option))
            or (_is_number(value) and _is_number(option) and value == option)
            for option in param.options
        )
    if not _is_number(value):
        return False
    if not param.low <= value <= param.high:
        return False
    if isinstance(param, IntRange):
        return float(value).is_integer() and (int(value) - param.low) % param.step == 0
    if isinstance(param, FloatRange) and param.step:
        steps = (value - param.low) / param.step
        return abs(steps - round(steps)) < 1e-9
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _describe(param: Param) -> str:
    if isinstance(param, Choice):
        return "choices: " + ", ".join(repr(o) for o in param.options)
    return f"range {param.low}..{param.high}"
