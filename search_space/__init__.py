"""YAML search spaces over CNN/transformer designs, and the model builder.

Knows nothing of Optuna or Ray: a model can be loaded, built and counted alone.
Names are imported on first use, so `import search_space.errors` (as every `nas`
command does) does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "search_space.architecture": ("Architecture", "HeadArch", "StageArch", "StemArch"),
    "search_space.builder": ("Network", "build_model", "count_params", "params_by_stage"),
    "search_space.errors": ("SpaceError",),
    "search_space.loader": ("bundled_names", "load_architecture", "load_space", "resolve"),
    "search_space.registry": (
        "BLOCKS",
        "HEADS",
        "STEMS",
        "TRANSITIONS",
        "get_block",
        "list_blocks",
    ),
    "search_space.sampling": (
        "Chooser",
        "RandomChooser",
        "architecture_from_space",
        "sample_architecture",
        "sample_architectures",
        "space_size",
    ),
    "search_space.space": ("InputSpec", "SearchSpace"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'search_space' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
