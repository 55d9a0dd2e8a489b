"""Seeded samples of every bundled space validate, build and run; the same seed repeats."""

import pytest
import torch

from search_space import (
    build_model,
    bundled_names,
    load_architecture,
    load_space,
    sample_architectures,
    space_size,
)
from search_space.loader import BUNDLED_DIRS

SPACES = sorted(path.stem for path in BUNDLED_DIRS["space"].glob("*.yaml"))


def test_bundled_spaces_include_demo_and_cifar():
    assert {"demo", "cifar"} <= set(SPACES)
    assert {"resnet50", "convnext_tiny", "vit_small_patch16", "coatnet_0"} <= set(bundled_names())


@pytest.mark.slow
@pytest.mark.parametrize("name", SPACES)
def test_200_samples_validate_build_and_run(name):
    space = load_space(name)
    torch.manual_seed(0)
    images = torch.randn(2, space.input.channels, space.input.resolution, space.input.resolution)
    seen = set()
    for arch in sample_architectures(space, 200, seed=1):
        again = load_architecture(arch.to_dict())  # each sample is a valid architecture file
        assert again == arch
        model = build_model(arch).eval()
        with torch.no_grad():
            logits = model(images)
        assert logits.shape == (2, space.input.classes), arch.summary()
        assert torch.isfinite(logits).all(), arch.summary()
        seen.add(arch.summary())
    assert len(seen) > 150  # the sampler explores, it does not repeat one corner


@pytest.mark.parametrize("name", SPACES)
def test_same_seed_same_samples_other_seed_other_samples(name):
    space = load_space(name)
    first = [a.to_dict() for a in sample_architectures(space, 20, seed=7)]
    again = [a.to_dict() for a in sample_architectures(space, 20, seed=7)]
    other = [a.to_dict() for a in sample_architectures(space, 20, seed=8)]
    assert first == again
    assert first != other


def test_conditional_keys_are_only_sampled_for_blocks_that_read_them():
    space = load_space("demo")
    for arch in sample_architectures(space, 50, seed=0):
        for stage in arch.stages:
            assert ("heads" in stage.options) == (stage.block == "attention")
            assert ("kernel" in stage.options) == (stage.block != "attention")


def test_space_size_counts_only_keys_each_block_reads():
    space = load_space("demo")
    # stem fixed; stage 0: depth 2 x width 3 x (resnet: kernel 2 x act 2 = 4, mbconv and
    # convnext: kernel 2 x expansion 2 x act 2 = 8 each) = 6 x 20; stage 1: depth 2 x width 3 x
    # (resnet 2 + mbconv 4 + convnext 4 + attention: heads 2) = 6 x 12
    assert space_size(space) == (6 * 20) * (6 * 12)
