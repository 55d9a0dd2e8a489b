"""The case study's verdict per baseline: beyond the intervals, within them, or not at all."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "elpv_case_study.py"


def _study():
    spec = importlib.util.spec_from_file_location("elpv_case_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(trial: int, role: str, flops: float, mean: float, half: float) -> dict:
    verified = {"mean": mean, "low": mean - half, "high": mean + half, "seeds": 3}
    return {"trial": trial, "role": role, "flops": flops, "verified": verified}


def test_a_baseline_is_dominated_only_by_cheaper_members_beyond_the_intervals() -> None:
    rows = [
        _row(1, "front", 1e7, 0.80, 0.01),
        _row(2, "front", 5e7, 0.90, 0.01),  # far better, but costs more than resnet18
        _row(0, "resnet18", 3e7, 0.70, 0.02),
        _row(3, "vit_tiny", 4.5e7, 0.79, 0.03),  # 0.80 is higher, intervals overlap
        _row(4, "mobilenetv3", 0.5e7, 0.75, 0.01),  # nothing verified at <= 5 MFLOPs
    ]
    lines = _study().dominance(rows)
    assert lines[0] == "resnet18 (#0, 30.0 MFLOPs): dominated beyond the intervals by #1"
    assert lines[1].startswith("vit_tiny (#3, 45.0 MFLOPs): higher mean at <= its FLOPs for #1")
    assert lines[1].endswith("not decided")
    assert lines[2].startswith("mobilenetv3 (#4, 5.0 MFLOPs): not dominated")
