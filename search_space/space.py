"""A parsed space file: every key turned into a parameter, nothing sampled yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_space.errors import SpaceError, describe, did_you_mean, key_name
from search_space.params import Fixed, Param, parse_param
from search_space.recipe import PREFIX, recipe_params, recipe_problems
from search_space.ties import PREFIX as TIE_PREFIX
from search_space.ties import is_reference, parse_ties, resolve

TOP_KEYS = (
    "name",
    "description",
    "plugins",
    "input",
    "stem",
    "stages",
    "head",
    "data",
    "train",
    "search",
    "limits",
    "tied",
)
RUN_SECTIONS = ("data", "train", "search", "limits")
# (lowest, highest) of each input key: from 1-channel 1-pixel toys to 21k-class, 8k-pixel sets.
INPUT_RANGES = {"channels": (1, 1024), "resolution": (1, 8192), "classes": (2, 1_000_000)}
INPUT_KEYS = tuple(INPUT_RANGES)

# Keys every stem, stage and head reads, whatever its type; block options come from OPTIONS.
STEM_KEYS = ("type", "width")
STAGE_KEYS = ("block", "depth", "width", "stride", "downsample")
HEAD_KEYS = ("type",)
STAGE_DEFAULTS: dict[str, Any] = {"stride": 1, "downsample": "block"}
# Downsample modes the first block carries out itself; every other mode is a registered
# transition (search_space/transitions/, or a plug-in's @register_transition).
BLOCK_DOWNSAMPLES = ("block", "pool")


@dataclass(frozen=True)
class InputSpec:
    channels: int  # 1 for grayscale, 3 for RGB
    resolution: int  # square side in pixels
    classes: int


@dataclass
class SearchSpace:
    name: str
    input: InputSpec
    stem: dict[str, Param]
    stages: list[dict[str, Param]]
    head: dict[str, Param]
    run_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # data/train/search
    source: str = "<memory>"
    description: str = ""
    # Plug-in modules the space needs, resolved (module names, absolute paths): plugins.py
    plugins: tuple[str, ...] = ()
    # Tied choices (search_space/ties.py): name -> parameter, and key path -> the name it reads
    ties: dict[str, Param] = field(default_factory=dict)
    tied_sites: dict[str, str] = field(default_factory=dict)

    def components(self) -> list[tuple[str, dict[str, Param]]]:
        """(key path, parameters) of the stem, each stage and the head, in order."""
        stages = [(f"stages[{i}]", stage) for i, stage in enumerate(self.stages)]
        return [("stem", self.stem), *stages, ("head", self.head)]

    def free_parameters(self) -> list[str]:
        """Key paths of every value that is still a choice or a range (train keys too)."""
        own = [
            f"{path}.{key}"
            for path, params in self.components()
            for key, param in params.items()
            if not isinstance(param, Fixed) and f"{path}.{key}" not in self.tied_sites
        ]
        tied = [TIE_PREFIX + name for name, p in self.ties.items() if not isinstance(p, Fixed)]
        return own + tied + [PREFIX + key for key in recipe_params(self.run_config.get("train"))]


def parse_space(document: Any, source: str = "<memory>") -> SearchSpace:
    """Parses a loaded YAML document; raises SpaceError listing every structural problem."""
    if not isinstance(document, dict):
        kind = "an empty file" if document is None else describe(document)
        raise SpaceError(
            f"the file must be a mapping of keys (name, input, stem, stages, head), got {kind}"
        )
    problems = [
        f"{key_name(key)}: unknown top-level key{did_you_mean(key, TOP_KEYS)}; "
        f"allowed: {', '.join(TOP_KEYS)}"
        for key in document
        if key not in TOP_KEYS
    ]
    problems += [
        f"{key}: required section is missing"
        for key in ("input", "stem", "stages")
        if key not in document
    ]
    problems += _text_problems(document)
    ties, problems_of_ties = parse_ties(document.get("tied"))
    sites: dict[str, str] = {}
    input_spec, input_problems = _parse_input(document.get("input", {}))
    stem, stem_problems = _parse_component(document.get("stem", {}), "stem", ties, sites)
    head, head_problems = _parse_component(document.get("head") or {}, "head", ties, sites)
    stages, stage_problems = _parse_stages(document.get("stages", []), ties, sites)
    run_config, run_problems = _parse_run_sections(document)
    problems += input_problems + stem_problems + stage_problems + head_problems + run_problems
    problems += problems_of_ties + _unused_ties(ties, sites)
    if problems or input_spec is None:
        raise SpaceError(problems)
    return SearchSpace(
        name=str(document.get("name") or "unnamed"),
        input=input_spec,
        stem=stem,
        stages=stages,
        head=head,
        run_config=run_config,
        source=source,
        description=str(document.get("description") or ""),
        ties=ties,
        tied_sites=sites,
    )


def _unused_ties(ties: dict[str, Param], sites: dict[str, str]) -> list[str]:
    used = set(sites.values())
    return [
        f"tied.{name}: no key reads this tied choice; read it with {{tied: {name}}} or remove it"
        for name in ties
        if name not in used
    ]


def _text_problems(document: dict) -> list[str]:
    """`name` names run folders and files: plain text, no path separators."""
    problems = []
    name = document.get("name")
    if name is not None and (not isinstance(name, str | int) or isinstance(name, bool)):
        problems.append(f"name: {describe(name)} is not text")
    elif isinstance(name, str) and (len(name) > 100 or any(c in name for c in "/\\\0\n")):
        problems.append(f"name: {describe(name)} must be at most 100 characters with no / or \\")
    description = document.get("description")
    if isinstance(description, list | dict):
        problems.append(f"description: {describe(description)} is not text")
    return problems


def _parse_stages(
    stages: Any, ties: dict[str, Param], sites: dict[str, str]
) -> tuple[list[dict[str, Param]], list[str]]:
    if not isinstance(stages, list) or not stages:
        return [], ["stages: must be a non-empty list of stage mappings"]
    parsed, problems = [], []
    for i, stage in enumerate(stages):
        params, stage_problems = _parse_component(stage, f"stages[{i}]", ties, sites)
        parsed.append(params)
        problems += stage_problems
    return parsed, problems


def _parse_input(raw: Any) -> tuple[InputSpec | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["input: must be a mapping {channels: C, resolution: R, classes: K}"]
    problems = [
        f"input.{key_name(k)}: unknown key{did_you_mean(k, INPUT_KEYS)}; "
        f"allowed: {', '.join(INPUT_KEYS)}"
        for k in raw
        if k not in INPUT_KEYS
    ]
    for key, (low, high) in INPUT_RANGES.items():
        value = raw.get(key)
        if key not in raw:
            problems.append(f"input.{key}: required key is missing")
        elif not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(
                f"input.{key}: {describe(value)} must be a fixed integer from {low} to {high:,}"
            )
    if problems:
        return None, problems
    return InputSpec(raw["channels"], raw["resolution"], raw["classes"]), []


def _parse_component(
    raw: Any, path: str, ties: dict[str, Param], sites: dict[str, str]
) -> tuple[dict[str, Param], list[str]]:
    """The component's parameters; a ``{tied: NAME}`` value is the tied choice's own
    parameter, and its key path is recorded in `sites`."""
    if not isinstance(raw, dict):
        return {}, [f"{path}: must be a mapping of keys, got {describe(raw)}"]
    params, problems = {}, []
    for key, value in raw.items():
        if not isinstance(key, str):
            problems.append(f"{path}.{key_name(key)}: a key must be a name (quote it)")
            continue
        try:
            if is_reference(value):
                params[key] = resolve(value, f"{path}.{key}", ties)
                sites[f"{path}.{key}"] = value["tied"]
            else:
                params[key] = parse_param(value, f"{path}.{key}")
        except SpaceError as error:
            problems += error.problems
    return params, problems


def _parse_run_sections(document: dict) -> tuple[dict[str, dict[str, Any]], list[str]]:
    sections, problems = {}, []
    for key in RUN_SECTIONS:
        value = document.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(f"{key}: must be a mapping of settings, got {describe(value)}")
        else:
            sections[key] = dict(value)
    problems += recipe_problems(sections.get("train"))
    if "limits" in sections:
        from search_space.limits import parse_limits

        problems += parse_limits(sections["limits"])[1]
    return sections, problems
