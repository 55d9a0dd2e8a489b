"""Zero-cost proxies on NAS-Bench-201: Spearman rho of each proxy (and of params and
FLOPs) against the table's CIFAR-10 test accuracy, over seeded distinct NB201 cells,
beside the published correlations.

Each cell's network is built from the bundled nb201 space (10 classes) with
torch.manual_seed(--seed) and scored by our `compute_proxy` on one seeded batch. No
CIFAR-10 images ship with the package and none are downloaded, so the batch is seeded
N(0, 1) noise of CIFAR's shape: synflow never reads the batch (it feeds ones), naswot
and grad_norm do, so their figures are for noise, not for CIFAR-10 images (pass
--images-npy with a (N, 3, 32, 32) float array of normalized images to use real ones).
`--images natural` scores a batch of 32x32 crops of the two photographs scikit-learn
ships (a temple, a flower; downscaled 4x, normalized with CIFAR-10's mean and std):
natural-image statistics, though not CIFAR's classes. The cells of a smaller --count are
the first of the 1,000 that --count 1000 scores, so runs of different sizes compare.
Rows are appended to --out as JSON lines and a rerun resumes.

    python benchmarks/nb201_proxies.py                   # 200 cells: about 15 minutes
    python benchmarks/nb201_proxies.py --count 1000      # the full size: about an hour
    python benchmarks/nb201_proxies.py --count 300 --proxies grad_norm --images natural \
        --out natural.jsonl                              # the same cells, photographs
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
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
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


def natural_batch(count: int, resolution: int, seed: int) -> torch.Tensor:
    """`count` seeded crops of scikit-learn's two sample photographs, normalized."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = [
        np.asarray(Image.fromarray(p).resize((p.shape[1] // 4, p.shape[0] // 4), Image.BILINEAR))
        for p in load_sample_images().images
    ]
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        photo = photos[index % len(photos)]
        top = rng.integers(0, photo.shape[0] - resolution + 1)
        left = rng.integers(0, photo.shape[1] - resolution + 1)
        crops.append(photo[top : top + resolution, left : left + resolution])
    batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255
    mean, std = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR_STD).view(1, 3, 1, 1)
    return (batch - mean) / std


def spearman(x: pd.Series, y: pd.Series) -> float:
    return float(x.rank().corr(y.rank()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--images-npy", help="a (N, 3, R, R) array of normalized images")
    parser.add_argument("--images", choices=("noise", "natural"), default="noise")
    parser.add_argument("--proxies", default=",".join(PROXIES))
    parser.add_argument("--out", default="nb201_proxies.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = load_table()
    cells = sorted(table.index, key=table.index.get)
    proxies = [name for name in args.proxies.split(",") if name]
    pool = random.Random(args.seed).sample(range(len(cells)), max(args.count, 1000))
    chosen = pool[: args.count]
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
    elif args.images == "natural":
        inputs = natural_batch(args.batch, args.resolution, args.seed)
    start = time.perf_counter()
    with out.open("a") as sink:
        for index in (i for i in chosen if i not in done):
            arch = load_architecture(nb201_document(cells[index], args.resolution))
            torch.manual_seed(args.seed)
            model = build_model(arch)
            row = {"index": index, "accuracy": table.accuracy["nb201_cifar10"][index]}
            for name in proxies:
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
    batch = (
        "images" if args.images_npy else {"noise": "N(0,1) noise"}.get(args.images, "photo crops")
    )
    size = f"{args.resolution}x{args.resolution}"
    print(f"{len(rows)} NB201 cells (seed {args.seed}), batch {args.batch} of {batch}, {size}, "
          f"{seconds:.2f} s per cell")  # fmt: skip
    print(f"{'score':<10} {'rho (ours)':>10} {'published':>10}")
    for name in (*proxies, "params", "flops"):
        rho = spearman(rows[name].astype(float), rows["accuracy"])
        print(f"{name:<10} {rho:>10.3f} {PUBLISHED.get(name, '-'):>10}")


if __name__ == "__main__":
    main()
