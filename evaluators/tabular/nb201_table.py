"""Looks NAS-Bench-201 architectures up in the bundled table (data/README.md).

An architecture of the bundled ``nb201`` space maps to NB201's cell string through its
six edges, the same in every stage: ``|e10~0|+|e20~0|e21~1|+|e30~0|e31~1|e32~2|``. The
table gives each one test accuracy per dataset after 200 epochs (NATS-Bench, hp=200,
mean over seeds): no noise, no learning curve, one number per architecture.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.tabular.nb201_counts import EDGES
from search_space.errors import SpaceError

TABLE_FILE = Path(__file__).parent / "data" / "nb201.csv.xz"
# objective name -> the table's column (test accuracy in %, 200 epochs)
COLUMNS = {
    "nb201_cifar10": "CIFAR10TestAccuracy200Epochs",
    "nb201_cifar100": "CIFAR100TestAccuracy200Epochs",
    "nb201_imagenet16": "ImageNetTestAccuracy200Epochs",
}
# What the table's networks share besides the cell (Dong & Yang 2020, section 3.1).
STAGES = ((16, 1, "block"), (32, 2, "nb201_residual"), (64, 2, "nb201_residual"))
DEPTH = 5


@dataclass(frozen=True)
class NB201Table:
    index: dict[str, int]  # cell string -> NATS-Bench index
    accuracy: dict[str, list[float]]  # objective name -> accuracy in [0, 1] per index
    unique: list[str]  # per index: the isomorphism key

    def row(self, cell: str) -> int:
        try:
            return self.index[cell]
        except KeyError:
            raise SpaceError(f"{cell!r} is not an NB201 cell string") from None


@functools.cache
def load_table() -> NB201Table:
    """The bundled table, read once per process (about 0.2 s)."""
    import pandas as pd

    frame = pd.read_csv(TABLE_FILE)
    cells = frame["ArchitectureString"].tolist()
    return NB201Table(
        index={cell: i for i, cell in enumerate(cells)},
        accuracy={name: (frame[col] / 100.0).tolist() for name, col in COLUMNS.items()},
        unique=frame["UniqueString"].tolist(),
    )


def cell_string(edges: dict[str, str]) -> str:
    """NB201's string for a cell given as our six edge keys (edge_j_i: node j <- node i)."""
    e = [edges[key] for key in EDGES]
    return f"|{e[0]}~0|+|{e[1]}~0|{e[2]}~1|+|{e[3]}~0|{e[4]}~1|{e[5]}~2|"


def edges_of(cell: str) -> dict[str, str]:
    """The inverse of `cell_string`."""
    ops = [part.split("~")[0] for node in cell.strip("|").split("|+|") for part in node.split("|")]
    return dict(zip(EDGES, ops, strict=True))


def nb201_edges(arch: Any) -> dict[str, str]:
    """The cell's edges of an architecture of NB201's network; SpaceError naming the first
    difference when the architecture is another network (the table would not apply)."""
    problems = _skeleton_problems(arch)
    if problems:
        raise SpaceError(
            f"the NB201 table scores NB201's own network only (the bundled nb201 space), "
            f"but {problems[0]}"
        )
    return {key: arch.stages[0].options.get(key, "nor_conv_3x3") for key in EDGES}


def _skeleton_problems(arch: Any) -> list[str]:
    stem = arch.stem
    if (stem.type, stem.width, stem.options.get("stride")) != ("conv", 16, 1):
        return [f"its stem is {stem.type} {stem.width} wide, not a 3x3 conv to 16"]
    if len(arch.stages) != len(STAGES):
        return [f"it has {len(arch.stages)} stages, not 3"]
    first = None
    for i, (stage, (width, stride, downsample)) in enumerate(zip(arch.stages, STAGES)):
        found = (stage.block, stage.depth, stage.width, stage.stride)
        if found != ("nb201_cell", DEPTH, width, stride):
            return [f"stages[{i}] is {stage.summary()}, not nb201_cell x5 @{width}"]
        if stride > 1 and stage.downsample != downsample:
            return [f"stages[{i}].downsample is {stage.downsample}, not {downsample}"]
        edges = {key: stage.options.get(key) for key in EDGES}
        if first is not None and edges != first:
            return [f"stages[{i}] has another cell than stages[0] (tie the edges)"]
        first = edges
    return []


def lookup(arch: Any, objectives: list[str]) -> dict[str, float]:
    """The table's accuracies of `arch` for the named objectives, and its row."""
    table = load_table()
    row = table.row(cell_string(nb201_edges(arch)))
    values = {name: table.accuracy[name][row] for name in objectives}
    return {**values, "nb201_index": float(row)}
