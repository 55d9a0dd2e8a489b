"""Zero-cost proxies on NAS-Bench-201: Spearman rho of each proxy (and of params and
FLOPs) against the table's CIFAR-10 test accuracy, over seeded distinct NB201 cells,
beside the published correlations.

Each cell's network is built from the bundled nb201 space (10 classes) with
torch.manual_seed(--seed) and scored by our `compute_proxy` on one seeded batch. No
CIFAR-10 images ship with the package and none are downloaded, so the batch is seeded
N(0, 1) noise of CIFAR's shape: synflow never reads the batch (it feeds ones), naswot
and grad_norm do, so their figures are for noise, not for CIFAR-10 images (pass
--images-npy with a (N, 3, 32, 32) float array of normalized images to use real ones).
Rows are appended to --out as JSON lines and a rerun resumes.

    python benchmarks/nb201_proxies.py                   # 200 cells: about 15 minutes
    python benchmarks/nb201_proxies.py --count 1000      # the full size: about an hour
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import pandas as pd
import torch

from evaluators.proxies import compute_proxy
from evaluators.tabular.nb201_counts import nb201_counts
from evaluators.tabular.nb201_table import edges_of, load_table
from search_space import build_model, load_architecture

PROXIES = ("synflow", "naswot", "grad_norm")
# Spearman rho with CIFAR-10 test accuracy over NB201 (Abdelfattah et al., ICLR 2021).
# NASWOT (Mellor et al., ICML 2021) is not in that table; compare with its own paper.
PUBLISHED = {"synflow": "0.74", "grad_norm": "0.58", "jacob_cov": "0.73"}


def nb201_document(cell: str, resolution: int) -> dict:
    edges = edges_of(cell)
    stages = [
        {"block": "nb201_cell", "depth": 5, "width": w, "stride": s, **edges}
        | ({"downsample": "nb201_residual"} if s > 1 else {})
        for w, s in ((16, 1), (32, 2), (64, 2))
    ]
    return {
        "name": "nb201",
        "input": {"channels": 3, "resolution": resolution, "classes": 10},
        "stem": {"type": "conv", "width": 16, "stride": 1, "norm": "batch", "act": "none"},
        "stages": stages,
        "head": {"norm": "batch", "norm_position": "map", "act": "relu", "pool": "avg"},
    }


def spearman(x: pd.Series, y: pd.Series) -> float:
    return float(x.rank().corr(y.rank()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--images-npy", help="a (N, 3, R, R) array of normalized images")
    parser.add_argument("--out", default="nb201_proxies.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = load_table()
    cells = sorted(table.index, key=table.index.get)
    chosen = random.Random(args.seed).sample(range(len(cells)), args.count)
    out = Path(args.out)
    done = (
        {json.loads(line)["index"] for line in out.read_text().splitlines()}
        if out.exists()
        else set()
    )
    inputs: torch.Tensor | tuple = (3, args.resolution, args.resolution)
    if args.images_npy:
        import numpy as np

        inputs = torch.from_numpy(np.load(args.images_npy)[: args.batch]).float()
    start = time.perf_counter()
    with out.open("a") as sink:
        for index in (i for i in chosen if i not in done):
            arch = load_architecture(nb201_document(cells[index], args.resolution))
            torch.manual_seed(args.seed)
            model = build_model(arch)
            row = {"index": index, "accuracy": table.accuracy["nb201_cifar10"][index]}
            for name in PROXIES:
                row[name] = compute_proxy(
                    name, model, inputs, seed=args.seed, batch_size=args.batch
                )
            counts = nb201_counts(edges_of(cells[index]), resolution=args.resolution)
            row.update(params=counts["params"], flops=counts["flops"])
            sink.write(json.dumps(row) + "\n")
            sink.flush()
    rows = pd.DataFrame([json.loads(line) for line in out.read_text().splitlines()])
    rows = rows[rows["index"].isin(chosen)]
    seconds = (time.perf_counter() - start) / max(1, args.count - len(done))
    batch = "images" if args.images_npy else "N(0,1) noise"
    size = f"{args.resolution}x{args.resolution}"
    print(f"{len(rows)} NB201 cells (seed {args.seed}), batch {args.batch} of {batch}, {size}, "
          f"{seconds:.2f} s per cell")  # fmt: skip
    print(f"{'score':<10} {'rho (ours)':>10} {'published':>10}")
    for name in (*PROXIES, "params", "flops"):
        rho = spearman(rows[name].astype(float), rows["accuracy"])
        print(f"{name:<10} {rho:>10.3f} {PUBLISHED.get(name, '-'):>10}")


if __name__ == "__main__":
    main()
