"""YAML search spaces over CNN/transformer designs, and the model builder.

Knows nothing of Optuna or Ray: a model can be loaded, built and counted alone.
"""

from search_space.architecture import Architecture, HeadArch, StageArch, StemArch
from search_space.builder import Network, build_model, count_params, params_by_stage
from search_space.errors import SpaceError
from search_space.loader import bundled_names, load_space, resolve
from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS, get_block, list_blocks
from search_space.sampling import (
    Chooser,
    RandomChooser,
    architecture_from_space,
    load_architecture,
    sample_architecture,
    sample_architectures,
    space_size,
)
from search_space.space import InputSpec, SearchSpace

__all__ = [
    "BLOCKS",
    "HEADS",
    "STEMS",
    "TRANSITIONS",
    "Architecture",
    "Chooser",
    "HeadArch",
    "InputSpec",
    "Network",
    "RandomChooser",
    "SearchSpace",
    "SpaceError",
    "StageArch",
    "StemArch",
    "architecture_from_space",
    "build_model",
    "bundled_names",
    "count_params",
    "get_block",
    "list_blocks",
    "load_architecture",
    "load_space",
    "params_by_stage",
    "resolve",
    "sample_architecture",
    "sample_architectures",
    "space_size",
]
