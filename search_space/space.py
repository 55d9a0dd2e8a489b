"""A parsed space file: every key turned into a parameter, nothing sampled yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_space.errors import SpaceError, did_you_mean
from search_space.params import Fixed, Param, parse_param

TOP_KEYS = ("name", "description", "input", "stem", "stages", "head", "data", "train", "search")
RUN_SECTIONS = ("data", "train", "search")
INPUT_KEYS = ("channels", "resolution", "classes")

# Keys every stem, stage and head reads, whatever its type; block options come from OPTIONS.
STEM_KEYS = ("type", "width")
STAGE_KEYS = ("block", "depth", "width", "stride", "downsample")
HEAD_KEYS = ("type",)
STAGE_DEFAULTS: dict[str, Any] = {"stride": 1, "downsample": "block"}
DOWNSAMPLES = ("block", "pool", "norm_conv", "patch_merge", "conv")


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

    def components(self) -> list[tuple[str, dict[str, Param]]]:
        """(key path, parameters) of the stem, each stage and the head, in order."""
        stages = [(f"stages[{i}]", stage) for i, stage in enumerate(self.stages)]
        return [("stem", self.stem), *stages, ("head", self.head)]

    def free_parameters(self) -> list[str]:
        """Key paths of every value that is still a choice or a range."""
        return [
            f"{path}.{key}"
            for path, params in self.components()
            for key, param in params.items()
            if not isinstance(param, Fixed)
        ]


def parse_space(document: Any, source: str = "<memory>") -> SearchSpace:
    """Parses a loaded YAML document; raises SpaceError listing every structural problem."""
    if not isinstance(document, dict):
        raise SpaceError(
            f"the file must be a mapping of keys (name, input, stem, stages, head), "
            f"got {type(document).__name__}"
        )
    problems = [
        f"{key}: unknown top-level key{did_you_mean(key, TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}"
        for key in document
        if key not in TOP_KEYS
    ]
    problems += [
        f"{key}: required section is missing"
        for key in ("input", "stem", "stages")
        if key not in document
    ]
    if problems:
        raise SpaceError(problems)
    stages = document["stages"]
    if not isinstance(stages, list) or not stages:
        raise SpaceError("stages: must be a non-empty list of stage mappings")
    input_spec, problems = _parse_input(document["input"])
    stem, stem_problems = _parse_component(document["stem"], "stem")
    head, head_problems = _parse_component(document.get("head") or {}, "head")
    parsed_stages = []
    problems += stem_problems + head_problems
    for i, stage in enumerate(stages):
        params, stage_problems = _parse_component(stage, f"stages[{i}]")
        parsed_stages.append(params)
        problems += stage_problems
    run_config, run_problems = _parse_run_sections(document)
    problems += run_problems
    if problems:
        raise SpaceError(problems)
    return SearchSpace(
        name=str(document.get("name") or "unnamed"),
        input=input_spec,
        stem=stem,
        stages=parsed_stages,
        head=head,
        run_config=run_config,
        source=source,
        description=str(document.get("description") or ""),
    )


def _parse_input(raw: Any) -> tuple[InputSpec | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["input: must be a mapping {channels: C, resolution: R, classes: K}"]
    problems = [
        f"input.{k}: unknown key{did_you_mean(k, INPUT_KEYS)}; allowed: {', '.join(INPUT_KEYS)}"
        for k in raw
        if k not in INPUT_KEYS
    ]
    minimum = {"channels": 1, "resolution": 1, "classes": 2}
    for key, low in minimum.items():
        value = raw.get(key)
        if key not in raw:
            problems.append(f"input.{key}: required key is missing")
        elif not isinstance(value, int) or isinstance(value, bool) or value < low:
            problems.append(f"input.{key}: {value!r} must be a fixed integer >= {low}")
    if problems:
        return None, problems
    return InputSpec(raw["channels"], raw["resolution"], raw["classes"]), []


def _parse_component(raw: Any, path: str) -> tuple[dict[str, Param], list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"{path}: must be a mapping of keys, got {raw!r}"]
    params, problems = {}, []
    for key, value in raw.items():
        try:
            params[str(key)] = parse_param(value, f"{path}.{key}")
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
            problems.append(f"{key}: must be a mapping of settings, got {value!r}")
        else:
            sections[key] = dict(value)
    return sections, problems
