"""A trial's arch.yaml, written once per trial: the architecture, then its recipe.

The text is what one PyYAML dump of the whole document writes (block mappings, one flow
mapping per stage, width 1000), built from parts so a search does not pay a full dump per
trial (a third of a millisecond, as much as a table lookup's whole trial):

- each top-level entry but the stages is dumped on its own, once per distinct value (the
  stem, head, input and recipe repeat across trials);
- each stage is a flow mapping of scalars, joined here from PyYAML's own flow-context text
  of each key and value, cached per scalar (a search redraws the same few values). A stage
  whose keys or values this join cannot take, or whose line would near the width, is
  dumped whole.

tests/nas/engine/test_trial_arch_yaml.py checks the joined text against one dump of the
document for every bundled space and for scalars that need quoting.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

WIDTH = 1000  # as Architecture.to_yaml: a stage stays on one line
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SENTINEL = "'': {}\n"  # an entry beside which a scalar entry keeps block style


def trial_arch_yaml(arch: Any, train: dict[str, Any]) -> str:
    """The YAML of ``{**arch.to_dict(run_config=False), "train": train}``."""
    parts = []
    for key, value in {**arch.to_dict(run_config=False), "train": train}.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            parts.append(_dump(json.dumps({key: [{}]}))[: -len("- {}\n")])
            parts += [_stage_line(item) for item in value]
        elif isinstance(value, (dict, list)):
            parts.append(_dump(json.dumps({key: value})))
        else:  # beside a collection, so the mapping stays a block as in the whole document
            text = _dump(json.dumps({key: value, "": {}}))
            parts.append(text[: text.rindex(_SENTINEL)])
    return "".join(parts)


def _stage_line(stage: dict[str, Any]) -> str:
    if all(isinstance(k, str) and _SIMPLE_KEY.match(k) for k in stage) and all(
        _joinable(v) for v in stage.values()
    ):
        pairs = ", ".join(f"{_flow(str, k)}: {_flow(type(v), v)}" for k, v in stage.items())
        if len(pairs) < WIDTH - 100:
            return "- {" + pairs + "}\n"
    return _dump(json.dumps([stage]))


def _joinable(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" not in value and "\r" not in value and len(value) < 100
    return value is None or isinstance(value, (bool, int, float))


@functools.lru_cache(maxsize=4096)
def _flow(kind: type, value: Any) -> str:
    """PyYAML's text of one scalar in a flow collection (`kind` keeps True apart from 1)."""
    return _dump_object([value], flow=True)[1:-2]  # "[value]\n"


@functools.lru_cache(maxsize=4096)
def _dump(document: str) -> str:
    return _dump_object(json.loads(document), flow=None)


def _dump_object(data: Any, flow: bool | None) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, when installed: 10x
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=flow, width=WIDTH)
