"""Zero-cost proxies against trained accuracy: Kendall tau over seeded demo-space samples.

Each of --count architectures sampled from the demo space (seed --seed) is built with
torch.manual_seed(--seed), scored by every proxy on one seeded batch of mnist5k
training images, then trained with the demo space's train: recipe (--epochs
overrides its epochs) and scored on the validation split. Params and FLOPs are
ranked too, as the baselines a proxy has to beat. Rows are appended to --out as
JSON lines, and an existing file is resumed (architectures already there are
skipped), so a long run can be stopped and continued.

    python benchmarks/proxy_correlation.py [--count 30] [--epochs 3] [--out rows.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.flops import count_flops
from evaluators.proxies import compute_proxy, list_proxies
from evaluators.training import train_and_evaluate
from search_space import build_model, count_params, load_space, sample_architectures


def kendall_tau(x: list[float], y: list[float]) -> float:
    """Kendall's tau-b: (concordant - discordant) / sqrt(untied-in-x pairs * untied-in-y pairs)."""
    concordant = discordant = tied_x = tied_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tied_x += 1
            elif dy == 0:
                tied_y += 1
            elif dx == dy:
                concordant += 1
            else:
                discordant += 1
    pairs_x, pairs_y = concordant + discordant + tied_y, concordant + discordant + tied_x
    return (concordant - discordant) / math.sqrt(pairs_x * pairs_y) if pairs_x and pairs_y else 0.0


def score_architecture(arch, dataset, train: TrainConfig, seed: int) -> dict:
    torch.manual_seed(seed)
    model = build_model(arch)
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    row = {
        "name": arch.name,
        "summary": arch.summary(),
        "params": count_params(model),
        "flops": count_flops(model, shape)["flops"],
    }
    for proxy in list_proxies():
        start = time.perf_counter()
        try:
            row[proxy] = compute_proxy(proxy, model, dataset=dataset, seed=seed)
        except ValueError as error:  # e.g. naswot on a net without rectifiers
            row[proxy], row[f"{proxy}_error"] = None, str(error)
        row[f"{proxy}_seconds"] = time.perf_counter() - start
    result = train_and_evaluate(model, dataset, train, seed=seed)
    row.update({k: result[k] for k in ("accuracy", "loss", "train_seconds")})
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="default: the demo space's")
    parser.add_argument("--limit", type=int, default=None, help="mnist5k images used")
    parser.add_argument("--out", default="proxy_correlation.jsonl")
    args = parser.parse_args()
    space = load_space("demo")
    recipe = dict(space.run_config.get("train") or {})
    if args.epochs:
        recipe["epochs"] = args.epochs
    train = TrainConfig.from_dict(recipe)
    data = DataConfig.from_dict({**(space.run_config.get("data") or {}), "limit": args.limit})
    dataset = load_dataset(data, space.input)
    out = Path(args.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    done = {row["name"] for row in rows}
    for arch in sample_architectures(space, args.count, seed=args.seed):
        if arch.name in done:
            continue
        row = score_architecture(arch, dataset, train, args.seed)
        rows.append(row)
        with out.open("a") as file:
            file.write(json.dumps(row) + "\n")
        print(
            f"{len(rows):3d} {row['accuracy']:.4f} {row['train_seconds']:6.1f}s {row['summary']}",
            flush=True,
        )
    _print_taus(rows, train)


def _print_taus(rows: list[dict], train: TrainConfig) -> None:
    print(
        f"\nKendall tau vs val accuracy, {len(rows)} demo-space samples, "
        f"{train.epochs} epochs on mnist5k:"
    )
    accuracy = [row["accuracy"] for row in rows]
    for key in [*list_proxies(), "params", "flops"]:
        pairs = [(row[key], a) for row, a in zip(rows, accuracy) if row.get(key) is not None]
        tau = kendall_tau([p for p, _ in pairs], [a for _, a in pairs])
        seconds = [row.get(f"{key}_seconds", 0.0) for row in rows]
        print(
            f"  {key:<10} tau {tau:+.3f}  (n={len(pairs)}, "
            f"{sum(seconds) / len(seconds):.2f} s per model)"
        )


if __name__ == "__main__":
    main()
