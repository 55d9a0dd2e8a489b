"""The hypervolume reference point of a new run: bounds, constraints, the space's largest."""

from __future__ import annotations

import pytest

from evaluators.flops import count_flops
from nas.engine.reference import run_reference_point, space_upper_bounds
from nas.runs.pareto import parse_objectives
from search_space import build_model, count_params, load_space, sample_architectures


@pytest.mark.slow
def test_the_space_upper_bound_is_the_largest_architecture(write_space):
    space = load_space(
        write_space(
            {
                "name": "small",
                "input": {"channels": 1, "resolution": 16, "classes": 10},
                "stem": {"type": "conv", "width": [8, 16], "stride": [1, 2]},
                "stages": [
                    {
                        "block": ["resnet", "mbconv"],
                        "depth": {"low": 1, "high": 2},
                        "width": [8, 16],
                        "kernel": [3, 5],
                        "expansion": [2, 4],
                    }
                ],
            }
        )
    )
    samples = [build_model(a) for a in sample_architectures(space, 400, seed=1)]
    bounds = space_upper_bounds(space, ["flops", "params"])
    assert bounds["params"] == max(count_params(m) for m in samples)  # every arch was drawn
    assert bounds["flops"] >= max(count_flops(m, (1, 16, 16))["flops"] for m in samples[:20])
    objectives = parse_objectives({"accuracy": "max", "flops": "min"})
    assert run_reference_point(objectives, space) == [0.0, bounds["flops"]]
    constrained = run_reference_point(objectives, space, {"flops": {"max": 1e5}})
    assert constrained == [0.0, 1e5]
