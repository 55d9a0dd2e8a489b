"""Stochastic depth: one DropPath per residual branch of every block, and it drops whole
branches for the given fraction of samples in training only."""

from __future__ import annotations

import pytest
import torch

from search_space.layers.drop_path import DropPath, set_drop_path
from search_space.registry import BLOCKS, HEADS
from tests.search_space.test_blocks import defaults, make_block

# Residual branches per block when the shape is kept (the paper's diagram of each block).
BRANCHES = {
    "attention": 2,  # attention and MLP
    "bottleneck": 1,
    "conv": 1,
    "convnext": 1,
    "fused_mbconv": 1,
    "mbconv": 1,
    "mixer": 2,  # token MLP and channel MLP
    "nb201_cell": 0,  # a DAG of ops without a residual branch; NB201 trains without drop-path
    "poolformer": 2,  # pooling mixer and MLP
    "preact_bottleneck": 1,
    "resnet": 1,
}
# Blocks that apply an activation after the sum: a dropped branch leaves act(x).
POST_ACT = {"resnet", "bottleneck"}


def small_block(name: str, out_chs: int = 8, stride: int = 1, **options):
    extra = {"head_dim": 4} if name == "attention" else {}
    return make_block(name, 8, out_chs, stride, (4, 4), **extra, **options)


def drop_paths(module: torch.nn.Module) -> list[DropPath]:
    return [m for m in module.modules() if isinstance(m, DropPath)]


def test_every_registered_block_has_a_branch_count():
    assert sorted(BRANCHES) == BLOCKS.names()


@pytest.mark.parametrize("name", sorted(BRANCHES))
def test_one_drop_path_per_residual_branch(name):
    block = small_block(name)
    assert len(drop_paths(block)) == BRANCHES[name]


def test_mobile_block_without_a_residual_has_no_drop_path():
    block = small_block("mbconv", 16, 2, skip="identity")
    assert block.shortcut is None and drop_paths(block) == []


def test_class_attention_head_has_two_branches_per_block():
    head = HEADS.get("class_attention")(16, 10, **defaults(HEADS.get("class_attention"), depth=3))
    assert len(drop_paths(head)) == 6


@pytest.mark.parametrize("name", sorted(n for n in BRANCHES if BRANCHES[n]))
def test_train_mode_drops_whole_branches_at_the_rate(name):
    torch.manual_seed(0)
    rate, samples = 0.5, 1200
    block = small_block(name).train()
    for layer in drop_paths(block):
        layer.rate = rate
    x = torch.randn(samples, 8, 4, 4)
    with torch.no_grad():
        y = block(x)
    untouched = x.relu() if name in POST_ACT else x
    dropped = (y - untouched).flatten(1).abs().amax(1) < 1e-6  # every branch of the sample off
    expected = rate ** BRANCHES[name]
    # Binomial(1200, p): 5 standard deviations is below 0.08 for p <= 0.5.
    assert abs(dropped.float().mean().item() - expected) < 0.08


@pytest.mark.parametrize("name", sorted(BRANCHES))
def test_eval_mode_ignores_the_rate(name):
    torch.manual_seed(0)
    block = small_block(name).eval()
    x = torch.randn(4, 8, 4, 4)
    with torch.no_grad():
        before = block(x)
        set_drop_path(block, 0.9)
        after = block(x)
    assert torch.equal(before, after)
