"""The bundled nb201 space is NAS-Bench-201's network: its size, and parameters and FLOPs
equal to a count from the paper's definitions (Dong & Yang, ICLR 2020, section 3.1)."""

from __future__ import annotations

import itertools

import pytest
import torch

from evaluators.tabular.nb201_counts import EDGES, nb201_counts
from evaluators.tabular.nb201_table import edges_of
from search_space import build_model, count_params, load_architecture, load_space
from search_space.sampling import space_size

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
CELLS = [
    dict.fromkeys(EDGES, "nor_conv_3x3"),  # the largest: 1.53 MB in NB201's tables
    dict.fromkeys(EDGES, "none"),  # the smallest: 0.07 MB
    edges_of(
        "|nor_conv_1x1~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    ),
    edges_of(
        "|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|avg_pool_3x3~0|avg_pool_3x3~1|skip_connect~2|"
    ),
]


def nb201_arch(edges: dict[str, str]):
    """The nb201 space's architecture with this cell in every stage."""
    space = load_space("nb201")
    document = {
        "name": "nb201",
        "input": {"channels": 3, "resolution": 32, "classes": 10},
        "stem": {"type": "conv", "width": 16, "stride": 1, "norm": "batch", "act": "none"},
        "stages": [
            {"block": "nb201_cell", "depth": 5, "width": w, "stride": s, **edges}
            | ({"downsample": "nb201_residual"} if s > 1 else {})
            for w, s in ((16, 1), (32, 2), (64, 2))
        ],
        "head": {"norm": "batch", "norm_position": "map", "act": "relu", "pool": "avg"},
    }
    assert space.name == "nb201"
    return load_architecture(document)


def paper_params(edges: dict[str, str], classes: int = 10) -> int:
    """NB201's parameter count written out from the paper: ReLU-conv-BN ops without bias,
    affine BN, the ResNet reduction block, BN before the pool, a linear classifier."""
    conv = {"nor_conv_1x1": 1, "nor_conv_3x3": 9}
    total = 3 * 16 * 9 + 2 * 16  # stem conv + BN
    for c in (16, 32, 64):
        total += 5 * sum(conv[op] * c * c + 2 * c for op in edges.values() if op in conv)
    for c_in, c_out in ((16, 32), (32, 64)):
        total += 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out + c_in * c_out
    return total + 2 * 64 + 64 * classes + classes


def test_the_space_holds_the_15625_architectures() -> None:
    space = load_space("nb201")
    assert space_size(space) == 5**6
    assert space.free_parameters() == [f"tied.{edge}" for edge in EDGES]


def test_the_paper_formula_gives_the_extremes() -> None:
    assert round(paper_params(CELLS[0]) / 1e6, 2) == 1.53
    assert round(paper_params(CELLS[1]) / 1e6, 2) == 0.07


@pytest.mark.parametrize("edges", CELLS, ids=range(len(CELLS)))
def test_params_equal_the_paper_definition(edges: dict[str, str]) -> None:
    model = build_model(nb201_arch(edges))
    assert count_params(model) == paper_params(edges)
    assert nb201_counts(edges)["params"] == paper_params(edges)


def test_the_closed_form_matches_the_paper_count_for_every_97th_cell() -> None:
    for ops in itertools.islice(itertools.product(OPS, repeat=6), 0, None, 97):
        edges = dict(zip(EDGES, ops))
        assert nb201_counts(edges)["params"] == paper_params(edges)


@pytest.mark.slow
@pytest.mark.parametrize("edges", CELLS, ids=range(len(CELLS)))
def test_flops_equal_the_closed_form_in_both_conventions(edges: dict[str, str]) -> None:
    from evaluators.flops import count_flops

    model = build_model(nb201_arch(edges))
    assert count_flops(model, (3, 32, 32))["flops"] == nb201_counts(edges)["flops"]
    nb201 = count_flops(model, (3, 32, 32), convention="nb201")["flops"]
    assert nb201 == nb201_counts(edges, convention="nb201")["flops"]


def test_the_nb201_convention_counts_pooling_and_the_bias_and_not_the_norms() -> None:
    """One layer of each kind, counted by hand: what separates the two conventions."""
    from evaluators.flops import count_flops

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1, bias=False),  # 3*9*8 per pixel, 1,024 pixels
        torch.nn.BatchNorm2d(8),  # fvcore: 2 per element; nb201: free
        torch.nn.AvgPool2d(3, stride=1, padding=1),  # nb201: 9 per output element
        torch.nn.MaxPool2d(2),  # nb201: 4 per output element (8 x 16 x 16)
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 16 * 16, 10),  # + 10 for the bias under nb201
    )
    conv, linear = 3 * 9 * 8 * 32 * 32, 8 * 16 * 16 * 10
    fvcore = count_flops(model, (3, 32, 32))["flops"]
    nb201 = count_flops(model, (3, 32, 32), convention="nb201")
    assert fvcore == conv + 2 * 8 * 32 * 32 + linear
    assert nb201["flops"] == conv + 9 * 8 * 32 * 32 + 4 * 8 * 16 * 16 + linear + 10
    assert "NAS-Bench-201" in nb201["flop_convention"]


def test_nas_sample_prints_nb201s_own_params_and_flops(nas) -> None:
    """The bundled space counts in NB201's convention: every sample equals the paper's
    params and the closed form of NB201's counter."""
    result = nas("sample", "nb201", "--count", "6", "--seed", "4", "--json")
    assert result.code == 0, result.err
    samples = result.json()
    assert len({sample["summary"] for sample in samples}) > 1
    for sample in samples:
        edges = {key: sample["architecture"]["stages"][0][key] for key in EDGES}
        assert sample["params"] == paper_params(edges)
        assert sample["flops"] == nb201_counts(edges, convention="nb201")["flops"]


def test_an_all_none_cell_cuts_the_input_off() -> None:
    model = build_model(nb201_arch(CELLS[1])).eval()
    with torch.no_grad():
        a, b = model(torch.randn(2, 3, 32, 32)), model(torch.randn(2, 3, 32, 32))
    assert torch.allclose(a, b)


def test_nas_validate_reports_15625_and_needs_no_data(capsys) -> None:
    from nas.cli import main

    assert main(["validate", "nb201"]) == 0
    out = capsys.readouterr().out
    assert "6 choices, 15,625 architectures" in out
    assert "data: not needed" in out
