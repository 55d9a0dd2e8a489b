"""Tabular benchmarks: architectures whose scores were measured once and published."""

from __future__ import annotations

from typing import Any

from search_space.errors import SpaceError

__all__ = ["equivalence_key", "known_counts", "score", "tabular_names"]


def tabular_names() -> list[str]:
    """Objectives looked up in a bundled table."""
    from evaluators.tabular.nb201_table import COLUMNS

    return list(COLUMNS)


def score(arch: Any, names: list[str]) -> dict[str, float]:
    """The table's values of `arch` for the tabular objectives `names`; SpaceError when
    the architecture is not one the table covers."""
    from evaluators.tabular.nb201_table import lookup

    unknown = [name for name in names if name not in tabular_names()]
    if unknown:
        raise SpaceError(f"no table for {', '.join(unknown)}")
    return lookup(arch, names)


def equivalence_key(arch: Any) -> str | None:
    """A key shared by the architectures a table holds as one network: for NB201, cells
    that are isomorphic (NB201's UniqueString: they compute the same function). None for
    an architecture no table covers."""
    from evaluators.tabular.nb201_table import cell_string, load_table, nb201_edges

    try:
        edges = nb201_edges(arch)
    except SpaceError:
        return None
    table = load_table()
    return "nb201:" + table.unique[table.row(cell_string(edges))]


def known_counts(arch: Any) -> dict[str, float] | None:
    """Params and FLOPs (in the convention its space asks for) in closed form, for an
    architecture of NB201's network; None for any other (count it with fvcore)."""
    from evaluators.flop_conventions import convention_of
    from evaluators.tabular.nb201_counts import nb201_counts
    from evaluators.tabular.nb201_table import nb201_edges

    try:
        edges = nb201_edges(arch)
    except SpaceError:
        return None
    if arch.head.full_options() != _NB201_HEAD or arch.stem.full_options() != _NB201_STEM:
        return None
    return nb201_counts(
        edges,
        resolution=arch.input.resolution,
        classes=arch.input.classes,
        in_chs=arch.input.channels,
        convention=convention_of(arch),
    )


# The head and stem options of NB201's network (BN-ReLU before pooling; conv + BN stem).
_NB201_HEAD = {
    "conv": 0,
    "norm": "batch",
    "norm_eps": None,
    "norm_position": "map",
    "act": "relu",
    "pool": "avg",
    "pre_logits": 0,
    "pre_logits_act": "tanh",
    "dropout": 0.0,
}
_NB201_STEM = {
    "depth": 1,
    "stride": 1,
    "norm": "batch",
    "act": "none",
    "bias": False,
    "final_norm": True,
    "hidden_width": None,
}
