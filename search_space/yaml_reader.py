"""YAML read with limits: the safe loader, hardened against hostile or broken files.

PyYAML's safe loader never runs code, but it still expands aliases without bound (a
600-byte "billion laughs" file becomes billions of values), recurses once per nesting
level (500 brackets end in RecursionError), keeps the last of two equal keys silently,
and turns dates, sets and binary into Python objects no space file means. Here every
one of those is refused with the line it happens on.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 1_000_000  # the largest bundled file is ~3 kB
MAX_DEPTH = 50  # a space file nests 4 levels deep (stages -> stage -> range)
MAX_NODES = 100_000  # values after expanding aliases; a space file has a few hundred

# Tags a space file never needs; their Python objects leak reprs into messages.
_REFUSED_TAGS = ("set", "binary", "omap", "pairs", "timestamp")


class YamlRefused(yaml.MarkedYAMLError):
    """A file that parses but breaks one of the limits above (not a syntax error)."""


def _refuse(problem: str, node_or_mark: Any) -> YamlRefused:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return YamlRefused(problem=problem, problem_mark=mark)


class LimitedLoader(yaml.SafeLoader):
    """SafeLoader with bounded nesting and alias expansion, unique keys, plain types only."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _refuse(f"values nest more than {MAX_DEPTH} levels deep", self.peek_event())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {}, set(), 0)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, ScalarNode):
                raise _refuse("a key must be a plain name, not a list or mapping", key_node)
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _refuse(
                    f"key {key_node.value!r} is given twice (first on line {seen[key]}); keep one",
                    key_node,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Node, memo: dict[int, tuple[int, int]], open_: set[int], depth: int):
    """(values, height) of `node` with every alias expanded; refuses past the limits."""
    if id(node) in memo:
        size, height = memo[id(node)]
    elif id(node) in open_:
        raise _refuse("an alias refers to the value that contains it", node)
    else:
        open_.add(id(node))
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        parts = [_expanded_size(child, memo, open_, depth + 1) for child in children]
        size = 1 + sum(p[0] for p in parts)
        height = 1 + max((p[1] for p in parts), default=0)
        open_.discard(id(node))
        memo[id(node)] = (size, height)
    if size > MAX_NODES:
        raise _refuse(
            f"aliases expand to more than {MAX_NODES:,} values; a space file needs far fewer",
            node,
        )
    if depth + height > MAX_DEPTH:
        raise _refuse(f"values nest more than {MAX_DEPTH} levels deep (through aliases)", node)
    return size, height


def _refuse_tag(loader: LimitedLoader, node: Node) -> Any:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    raise _refuse(
        f"the YAML tag {tag} is not supported; write plain values "
        "(numbers, text, true/false, null, lists and mappings)",
        node,
    )


for _tag in _REFUSED_TAGS:
    LimitedLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
LimitedLoader.add_constructor(None, _refuse_tag)  # any tag without a constructor
# An unquoted date (2024-01-01) stays the text it looks like, not a datetime.date.
LimitedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> Any:
    """The document in `text`; raises yaml.YAMLError (YamlRefused past a limit)."""
    loader = LimitedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
