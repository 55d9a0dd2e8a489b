"""The GPU check's dry run: every section of benchmarks/gpu_check.sh runs, small, on the CPU,
so the script a GPU session runs in one command cannot rot between GPU sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_gpu_check_dry_run_runs_every_section_on_the_cpu(tmp_path: Path) -> None:
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--dry-run", "--work", str(tmp_path / "work")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert results["dry_run"] is True
    for section in ("data", "train", "latency", "search", "export"):
        assert "error" not in results[section], results[section]
    # The same seed gives the same crops, flips and erasures on both paths.
    assert results["data"]["crops_flips_equal_to_cpu"] is True
    assert results["data"]["augmented_batch_max_abs_diff"] == 0.0
    for row in results["train"].values():
        assert row["ours_bf16_channels_last"]["images_per_s"] > 0
        assert row["plain_fp32_images_per_s"] > 0
    search = results["search"]["cpu"]
    assert (search["returncode"], search["complete"], search["failed"]) == (0, 2, 0)
    assert search["devices"] == ["cpu"]
    assert all(row["ours_ms"] > 0 and row["ratio"] > 0 for row in results["latency"].values())
    export = results["export"]
    assert {"weights.safetensors", "model.onnx", "arch.yaml"} <= set(export["files"])
    # The reloaded model is the trained one: identical logits on the same device, and ONNX
    # Runtime's within float32 rounding of them.
    assert export["cpu_vs_gpu_fp32_max_abs_diff"] == 0.0
    assert export["onnx_vs_cpu_max_abs_diff"] < 1e-4 * max(1.0, export["logit_scale"])
    assert (tmp_path / "out" / "gpu_check.txt").read_text().startswith("gpu check on")
