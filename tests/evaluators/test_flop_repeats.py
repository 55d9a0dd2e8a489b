"""Repeated blocks traced once give exactly the count of tracing every block: checked
against fvcore's full trace on every zoo file, sampled demo and cifar candidates, and toy
models built to trip the shortcut (shared modules, blocks that differ only in an
attribute, blocks with two inputs, nested repeats)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evaluators.flop_repeats import find_repeats
from evaluators.flops import count_flops
from search_space import build_model, load_architecture
from search_space.loader import BUNDLED_DIRS, load_space, read_yaml
from search_space.sampling import sample_architectures


def _both(model: nn.Module, shape: tuple[int, int, int]) -> tuple[dict, dict]:
    return count_flops(model, shape), count_flops(model, shape, repeated_blocks_once=False)


class Scaled(nn.Module):
    """A block whose FLOPs depend on a plain attribute: how many times it applies fc."""

    def __init__(self, width: int, times: int):
        super().__init__()
        self.fc, self.times = nn.Linear(width, width), times

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.times):
            x = self.fc(x)
        return x


class Nested(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.inner = nn.Sequential(*[nn.Linear(width, width) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) + x


class Shared(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in [*self.blocks, self.blocks[0]]:  # block 0 runs twice
            x = block(x)
        return x


def test_blocks_that_differ_in_an_attribute_are_each_traced():
    model = nn.Sequential(Scaled(8, 1), Scaled(8, 3), Scaled(8, 1), Scaled(8, 3))
    fast, full = _both(model, (1, 4, 8))
    assert fast == full
    assert fast["flops"] == 8 * (1 + 3 + 1 + 3) * 4 * 8  # 4 rows of 8x8 per application
    assert [(r.name, r.twin) for r in find_repeats(model, torch.zeros(1, 1, 4, 8))] == [
        ("2", "0"),
        ("3", "1"),
    ]


def test_nested_repeats_count_every_inner_and_outer_copy():
    model = nn.Sequential(*[Nested(8) for _ in range(4)])
    fast, full = _both(model, (1, 4, 8))
    assert fast == full and fast["flops"] == 4 * 3 * 4 * 8 * 8
    assert fast["uncounted_ops"] == full["uncounted_ops"] == {"aten::add": 4}


def test_a_module_called_twice_is_never_swapped():
    model = Shared(8)
    repeats = find_repeats(model, torch.zeros(1, 1, 4, 8))
    assert "blocks.0" not in {r.name for r in repeats}
    fast, full = _both(model, (1, 4, 8))
    assert fast == full and fast["flops"] == 4 * 4 * 8 * 8


def test_the_model_is_left_as_it_was():
    model = nn.Sequential(*[Nested(8) for _ in range(3)])
    before = [(n, type(m)) for n, m in model.named_modules()]
    count_flops(model, (1, 4, 8))
    assert [(n, type(m)) for n, m in model.named_modules()] == before


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(BUNDLED_DIRS["zoo"].glob("*.yaml")), ids=lambda p: p.stem)
def test_every_zoo_model_counts_the_same_as_a_full_trace(path):
    arch = load_architecture(read_yaml(path))
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    fast, full = _both(build_model(arch), shape)
    assert fast == full


@pytest.mark.slow
@pytest.mark.parametrize("name", ["demo", "cifar"])
def test_sampled_candidates_count_the_same_as_a_full_trace(name):
    space = load_space(BUNDLED_DIRS["space"] / f"{name}.yaml")
    for arch in sample_architectures(space, 12, seed=7):
        shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
        fast, full = _both(build_model(arch), shape)
        assert fast == full, arch.summary()
