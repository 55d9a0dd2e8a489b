"""Tied choices: one choice read by several keys and sampled once per architecture.

A space declares them in a top-level ``tied:`` section, each a list or a range like any
other value, and a key reads one with ``{tied: NAME}``:

    tied:
      kernel: [3, 5, 7]
    stages:
      - {block: resnet, depth: 2, width: 32, kernel: {tied: kernel}}
      - {block: resnet, depth: 2, width: 64, kernel: {tied: kernel}}

Every key that reads ``kernel`` gets the same value; the space counts the choice once,
and a search names it once, ``tied.kernel``. Each reading key still checks the values
against its own component's allowed values.
"""

from __future__ import annotations

from typing import Any

from search_space.errors import SpaceError, describe, did_you_mean, key_name
from search_space.params import Param, parse_param

SECTION = "tied"
PREFIX = "tied."  # the parameter name of a tied choice: tied.<name>


def is_reference(raw: Any) -> bool:
    """True for the ``{tied: NAME}`` form of a value."""
    return isinstance(raw, dict) and list(raw) == [SECTION]


def parse_ties(raw: Any) -> tuple[dict[str, Param], list[str]]:
    """The ``tied:`` section: name -> parameter, and its problems."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"{SECTION}: must be a mapping of names to choices, got {describe(raw)}"]
    ties, problems = {}, []
    for name, value in raw.items():
        if not isinstance(name, str) or not name.isidentifier():
            problems.append(f"{SECTION}.{key_name(name)}: a tied choice's name must be a word")
            continue
        if is_reference(value):
            problems.append(f"{SECTION}.{name}: a tied choice cannot refer to another one")
            continue
        try:
            ties[name] = parse_param(value, f"{SECTION}.{name}")
        except SpaceError as error:
            problems += error.problems
    return ties, problems


def resolve(raw: dict, path: str, ties: dict[str, Param]) -> Param:
    """The parameter behind ``{tied: NAME}`` at key `path`; SpaceError when unknown."""
    name = raw[SECTION]
    if not isinstance(name, str):
        raise SpaceError(
            f"{path}: {{tied: ...}} takes the name of a tied choice, got {describe(name)}; "
            f"write {{tied: NAME}} with NAME declared under the top-level tied: section"
        )
    if name in ties:
        return ties[name]
    known = f"; the tied: section has {', '.join(sorted(ties))}" if ties else ""
    raise SpaceError(
        f"{path}: no tied choice named {describe(name)}{did_you_mean(name, ties)}{known}; "
        f"declare it under the top-level tied: section"
    )


class TiedChooser:
    """Wraps a chooser so that every key reading one tied choice gets the same value.

    The wrapped chooser is asked once per tied choice, under ``tied.<name>``; a chooser with
    a ``choose_tied(name, site, param)`` method (one reading values off an architecture) is
    asked at every site instead, so that it can check they agree.
    """

    def __init__(self, chooser: Any, sites: dict[str, str]):
        self.chooser, self.sites = chooser, sites
        self.values: dict[str, Any] = {}

    def choose(self, name: str, param: Param) -> Any:
        tie = self.sites.get(name)
        if tie is None:
            return self.chooser.choose(name, param)
        per_site = getattr(self.chooser, "choose_tied", None)
        if per_site is not None:
            return per_site(PREFIX + tie, name, param)
        if tie not in self.values:
            self.values[tie] = self.chooser.choose(PREFIX + tie, param)
        return self.values[tie]
