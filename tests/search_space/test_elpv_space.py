"""The bundled elpv space: valid, FLOPs-capped, and able to express the case study's baselines."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from evaluators.flops import count_flops
from nas.engine.chooser import architecture_params
from search_space import build_model, load_architecture
from search_space.loader import load_space

BASELINES = sorted((Path(__file__).parents[2] / "benchmarks" / "elpv_baselines").glob("*.yaml"))


def test_the_space_offers_conv_attention_and_hybrid_stages() -> None:
    space = load_space("elpv")
    assert (space.input.channels, space.input.resolution, space.input.classes) == (1, 64, 2)
    blocks = [set(stage["block"].options) for stage in space.stages]
    assert all({"resnet", "mbconv", "convnext", "attention"} <= b for b in blocks)
    assert space.run_config["data"] == {"name": "elpv", "labels": "defective"}
    assert space.run_config["search"]["constraints"] == {"flops": {"max": 6.0e7}}


@pytest.mark.parametrize("path", BASELINES, ids=lambda p: p.stem)
def test_each_baseline_is_an_architecture_of_the_space_within_its_budget(path: Path) -> None:
    arch = load_architecture(path)
    params = architecture_params(load_space("elpv"), arch, str(path))  # a seed trial
    assert params["stages[0].block"] == arch.stages[0].block
    flops = count_flops(build_model(arch), (1, 64, 64))["flops"]
    assert 1e7 < flops <= 6.0e7
    assert build_model(arch)(torch.zeros(2, 1, 64, 64)).shape == (2, 2)


def test_the_four_baselines_are_there() -> None:
    assert [p.stem for p in BASELINES] == ["convnext_atto", "mobilenetv3", "resnet18", "vit_tiny"]
