"""The bundled nb201 space is NAS-Bench-201's network: its size, and parameters and FLOPs
equal to a count from the paper's definitions (Dong & Yang, ICLR 2020, section 3.1)."""

from __future__ import annotations

import itertools
import math

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


def nb201_convention_flops(model: torch.nn.Module) -> float:
    """fvcore with NB201's counter's rules: convs and linear (+ bias), k x k pooling at
    k^2 per output element, norms free."""
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import get_shape

    def pool(inputs, outputs):
        kernel = inputs[1].toIValue() or [v.toIValue() for v in inputs[1].node().inputs()]
        return math.prod(get_shape(outputs[0])) * kernel[0] * kernel[1]

    def linear(inputs, outputs):
        return (
            math.prod(get_shape(inputs[0])) * get_shape(outputs[0])[-1] + get_shape(outputs[0])[-1]
        )

    analysis = FlopCountAnalysis(model.eval(), torch.zeros(1, 3, 32, 32))
    analysis.set_op_handle(
        **{"aten::batch_norm": lambda i, o: 0, "aten::avg_pool2d": pool, "aten::linear": linear}
    )
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return float(analysis.total())


@pytest.mark.slow
@pytest.mark.parametrize("edges", CELLS, ids=range(len(CELLS)))
def test_flops_equal_the_closed_form_in_both_conventions(edges: dict[str, str]) -> None:
    from evaluators.flops import count_flops

    model = build_model(nb201_arch(edges))
    assert count_flops(model, (3, 32, 32))["flops"] == nb201_counts(edges)["flops"]
    assert nb201_convention_flops(model) == nb201_counts(edges, convention="nb201")["flops"]


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
