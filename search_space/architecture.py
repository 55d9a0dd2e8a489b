"""A concrete architecture: a search space with no choices left."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from search_space.registry import BLOCKS, HEADS, STEMS
from search_space.space import InputSpec

# Short tags for the one-line summary, e.g. "mbconv x2 @48 s2 k5 e4".
SUMMARY_TAGS = {"kernel": "k", "expansion": "e", "heads": "h", "head_dim": "hd", "window": "w"}


def _full(options: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """Every declared option: the given value, else the declared default."""
    return {key: options.get(key, option.default) for key, option in declared.items()}


@dataclass(frozen=True)
class StemArch:
    type: str
    width: int
    options: dict[str, Any] = field(default_factory=dict)  # only the keys the file gave

    def full_options(self) -> dict[str, Any]:
        return _full(self.options, STEMS.get(self.type).OPTIONS)


@dataclass(frozen=True)
class StageArch:
    block: str
    depth: int
    width: int
    stride: int = 1
    downsample: str = "block"
    options: dict[str, Any] = field(default_factory=dict)

    def full_options(self) -> dict[str, Any]:
        return _full(self.options, BLOCKS.get(self.block).OPTIONS)

    def summary(self) -> str:
        text = f"{self.block} x{self.depth} @{self.width}"
        if self.stride > 1:
            text += f" s{self.stride}"
        for key, tag in SUMMARY_TAGS.items():
            if self.options.get(key) is not None:
                text += f" {tag}{self.options[key]}"
        own = getattr(BLOCKS.get(self.block), "summary_tag", None)
        return f"{text} {own(self.full_options())}" if own else text


@dataclass(frozen=True)
class HeadArch:
    type: str = "classifier"
    options: dict[str, Any] = field(default_factory=dict)

    def full_options(self) -> dict[str, Any]:
        return _full(self.options, HEADS.get(self.type).OPTIONS)


@dataclass(frozen=True)
class Architecture:
    name: str
    input: InputSpec
    stem: StemArch
    stages: tuple[StageArch, ...]
    head: HeadArch = field(default_factory=HeadArch)
    run_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # data/train/search

    def summary(self) -> str:
        """One readable line, e.g. 'conv24 | mbconv x2 @48 k5 | attention x2 @192 s2 h4'."""
        return " | ".join(
            [f"{self.stem.type}{self.stem.width}", *(stage.summary() for stage in self.stages)]
        )

    def to_dict(self, *, run_config: bool = True) -> dict[str, Any]:
        """The architecture as a space document with every value fixed."""
        document: dict[str, Any] = {
            "name": self.name,
            "input": {
                "channels": self.input.channels,
                "resolution": self.input.resolution,
                "classes": self.input.classes,
            },
            "stem": {"type": self.stem.type, "width": self.stem.width, **self.stem.options},
            "stages": [_stage_dict(stage) for stage in self.stages],
            "head": {"type": self.head.type, **self.head.options},
        }
        if run_config:
            document.update({k: v for k, v in self.run_config.items() if v})
        return document

    def to_yaml(self, *, run_config: bool = True) -> str:
        """YAML that `nas info` and `nas train` load as it is (one flow mapping per stage)."""
        return yaml.safe_dump(
            self.to_dict(run_config=run_config),
            sort_keys=False,
            default_flow_style=None,
            width=1000,
        )


def _stage_dict(stage: StageArch) -> dict[str, Any]:
    return {
        "block": stage.block,
        "depth": stage.depth,
        "width": stage.width,
        "stride": stage.stride,
        "downsample": stage.downsample,
        **stage.options,
    }
