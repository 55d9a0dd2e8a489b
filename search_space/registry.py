"""String-to-class registries for stems, blocks, heads and stage transitions.

A new block is one new file in ``search_space/blocks/`` that decorates its class
with ``@register_block("name")``; the package imports every file in the folder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from search_space.errors import SpaceError, did_you_mean, one_of

T = TypeVar("T")


class Registry:
    """Maps the names used in YAML to component classes."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def wrap(cls: T) -> T:
            if name in self._entries:
                owner = self._entries[name].__module__
                raise ValueError(f"{self.kind} {name!r} is already registered by {owner}")
            cls.NAME = name  # type: ignore[attr-defined]
            self._entries[name] = cls
            return cls

        return wrap

    def get(self, name: str) -> Any:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise SpaceError(
                f"unknown {self.kind} {name!r}{did_you_mean(name, self._entries)}; "
                f"choose {one_of(sorted(self._entries))}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)


STEMS = Registry("stem")
BLOCKS = Registry("block")
HEADS = Registry("head")
TRANSITIONS = Registry("downsample")

register_stem = STEMS.register
register_block = BLOCKS.register
register_head = HEADS.register
register_transition = TRANSITIONS.register


def list_blocks() -> list[str]:
    return BLOCKS.names()


def get_block(name: str) -> Any:
    return BLOCKS.get(name)
