"""Hand-made trials tables shaped like a run's trials.csv (results/README.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml


def arch_document(first: str, second: str, kernel: int = 3, width: int = 16) -> str:
    stage0 = {"block": first, "depth": 1, "width": width, "stride": 1, "kernel": kernel}
    stage1 = {"block": second, "depth": 1, "width": 32, "stride": 2}
    stage1.update({"heads": 2} if second == "attention" else {"kernel": kernel})
    arch = {
        "name": "t",
        "input": {"channels": 1, "resolution": 28, "classes": 10},
        "stem": {"type": "conv", "width": width, "stride": 2},
        "stages": [stage0, stage1],
        "head": {"type": "classifier", "pool": "avg"},
    }
    return yaml.safe_dump(arch, sort_keys=False)


def trials_table(rows: list[dict]) -> pd.DataFrame:
    """rows: accuracy, flops and the arch_document arguments (first, second, kernel)."""
    records = []
    for number, row in enumerate(rows):
        records.append(
            {
                "number": number,
                "state": row.get("state", "complete"),
                "accuracy": row["accuracy"],
                "flops": row["flops"],
                "params": row.get("params", row["flops"] / 100),
                "summary": f"{row['first']} | {row['second']}",
                "arch_yaml": arch_document(row["first"], row["second"], row.get("kernel", 3)),
            }
        )
    return pd.DataFrame(records)


def planted_run(size: int, gap: float, seed: int = 0) -> pd.DataFrame:
    """`size` conv trials (resnet-resnet) and `size` hybrid ones (resnet-attention) with the
    same FLOPs and accuracies, the hybrid ones raised by `gap`."""
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.5, 0.7, size)
    flops = rng.uniform(1e6, 1e7, size)
    rows = [
        {"accuracy": a, "flops": f, "first": "resnet", "second": "resnet"}
        for a, f in zip(accuracy, flops)
    ]
    rows += [
        {"accuracy": a + gap, "flops": f, "first": "resnet", "second": "attention"}
        for a, f in zip(accuracy, flops)
    ]
    return trials_table(rows)


def mixed_run(size: int = 40, seed: int = 3) -> pd.DataFrame:
    """Accuracy driven by the kernel and the second block, FLOPs by the kernel."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(size):
        kernel, second = int(rng.choice([3, 5, 7])), str(rng.choice(["resnet", "attention"]))
        noise = rng.normal(0, 0.01)
        rows.append(
            {
                "accuracy": 0.6 + 0.02 * kernel + 0.05 * (second == "attention") + noise,
                "flops": 1e6 * kernel + rng.uniform(0, 5e5),
                "first": str(rng.choice(["resnet", "convnext"])),
                "second": second,
                "kernel": kernel,
            }
        )
    return trials_table(rows)
