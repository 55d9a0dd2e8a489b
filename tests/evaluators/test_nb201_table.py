"""Our architectures map onto the bundled NAS-Bench-201 table row by row."""

from __future__ import annotations

import pytest

from evaluators.tabular import known_counts, score
from evaluators.tabular.nb201_counts import EDGES
from evaluators.tabular.nb201_table import cell_string, edges_of, load_table
from search_space.errors import SpaceError
from tests.search_space.test_nb201 import nb201_arch

# The optimum of each dataset as published (Dong & Yang 2020; NATS-Bench): test accuracy
# after 200 epochs, and the NATS-Bench index of the best cell.
BEST = {
    "nb201_cifar10": (94.37, 6111),
    "nb201_cifar100": (73.51, 9930),
    "nb201_imagenet16": (47.31, 857),
}
BEST_CIFAR10_CELL = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)


def test_the_table_holds_every_architecture_once() -> None:
    table = load_table()
    assert len(table.index) == 15_625
    assert len(set(table.unique)) == 6_466  # NB201's count of distinct (non-isomorphic) cells


@pytest.mark.parametrize("name", list(BEST))
def test_the_best_architecture_reads_the_published_optimum(name: str) -> None:
    table = load_table()
    accuracy, index = BEST[name]
    assert max(table.accuracy[name]) == pytest.approx(accuracy / 100, abs=5e-5)
    arch = nb201_arch(edges_of(next(c for c, i in table.index.items() if i == index)))
    values = score(arch, [name])
    assert values[name] == pytest.approx(accuracy / 100, abs=5e-5)
    assert values["nb201_index"] == index


def test_our_edge_names_follow_nb201s_node_order() -> None:
    # edge_3_0 is node 3's input from node 0: NB201's 'skip_connect~0' in the third group
    edges = dict(
        zip(EDGES, ("nor_conv_3x3",) * 3 + ("skip_connect", "nor_conv_3x3", "nor_conv_1x1"))
    )
    assert cell_string(edges) == BEST_CIFAR10_CELL
    assert score(nb201_arch(edges), ["nb201_cifar10"])["nb201_index"] == 6111


def test_a_cell_that_cuts_the_input_off_scores_chance() -> None:
    values = score(nb201_arch(dict.fromkeys(EDGES, "none")), list(BEST))
    assert values["nb201_cifar10"] == pytest.approx(0.10)  # 10 classes
    assert values["nb201_cifar100"] == pytest.approx(0.01, abs=1e-6)  # 100 classes


def test_another_network_is_refused_by_name() -> None:
    from search_space import load_space
    from search_space.sampling import sample_architectures

    arch = sample_architectures(load_space("demo"), 1)[0]
    with pytest.raises(SpaceError, match="scores NB201's own network only"):
        score(arch, ["nb201_cifar10"])
    assert known_counts(arch) is None


def test_the_bundled_spaces_networks_are_counted_in_closed_form_equal_to_fvcore() -> None:
    """Every sample of the bundled nb201 space takes the closed form (no fvcore trace per
    trial), and the closed form equals fvcore on the built model, in the space's convention
    (NB201's counter's)."""
    from evaluators.flops import count_flops
    from search_space import build_model, count_params, load_space
    from search_space.sampling import sample_architectures

    for arch in sample_architectures(load_space("nb201"), 3, seed=4):
        counts = known_counts(arch)
        assert counts is not None, "the bundled nb201 space fell back to fvcore"
        model = build_model(arch)
        assert counts["params"] == count_params(model)
        assert counts["flops"] == count_flops(model, (3, 32, 32), convention="nb201")["flops"]
