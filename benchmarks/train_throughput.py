"""Training-loop throughput: evaluators.training against a minimal hand-written loop.

Both train the same architecture (a small convnet of the demo space) from the same
initial weights on the same mnist5k images, batch 128, on this machine's CPU threads.
The minimal loop is what one would write in five minutes: pre-normalized float tensors,
a shuffled index per epoch, AdamW, cross-entropy, nothing else. Ours adds the uint8
batch gather and normalization, warm-up/cosine learning rates, label smoothing,
gradient clipping, decay-free norm groups and the non-finite-loss check; augmentation
is off in the headline comparison (the minimal loop has none) and measured separately.

The runs alternate (minimal, ours, minimal, ours...), one epoch each, so that load from
other processes on a shared machine hits both alike; each side's best epoch (the least
disturbed, as timeit reports) and median epoch are reported, and the ratio of each,
per wall-clock second and per CPU second of this process (steadier when other
processes compete for the cores; run with --threads 1 for the steadiest figure).

    python benchmarks/train_throughput.py [--rounds 6] [--limit 2000] [--threads N]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.training import train_and_evaluate
from search_space import build_model, load_architecture

ARCH = {
    "name": "demo-small-convnet",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": 32, "stride": 2},
    "stages": [
        {"block": "resnet", "depth": 1, "width": 32, "kernel": 3, "act": "relu"},
        {"block": "resnet", "depth": 1, "width": 64, "stride": 2, "kernel": 3, "act": "relu"},
    ],
    "head": {"pool": "avg"},
}
BATCH = 128


def minimal_epoch(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    seed: int,
) -> tuple[float, float]:
    """One epoch of the textbook loop; returns images per wall second and per CPU second."""
    model.train()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    steps = len(labels) // BATCH
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(steps):
        index = order[i * BATCH : (i + 1) * BATCH]
        loss = F.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return steps * BATCH / wall, steps * BATCH / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="epochs per side, alternating")
    parser.add_argument("--limit", type=int, default=None, help="mnist5k images used (5,000)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    arch = load_architecture(ARCH)
    dataset = load_dataset(DataConfig(augment=False, limit=args.limit), arch.input)
    images = (dataset.train.images.float() / 255 - dataset.mean[0]) / dataset.std[0]
    torch.manual_seed(0)
    initial = build_model(arch)
    minimal_model = copy.deepcopy(initial)
    optimizer = torch.optim.AdamW(minimal_model.parameters(), lr=2e-3, weight_decay=0.05)
    recipe = TrainConfig(epochs=1, batch_size=BATCH, lr=2e-3, warmup_epochs=0.5)
    minimal_epoch(minimal_model, images, dataset.train.labels, optimizer, seed=-1)  # warm-up
    rates: dict[str, list[tuple[float, float]]] = {"minimal": [], "ours": [], "ours+augment": []}
    for round_ in range(args.rounds):
        rates["minimal"].append(
            minimal_epoch(minimal_model, images, dataset.train.labels, optimizer, seed=round_)
        )
        for name, data in (("ours", dataset), ("ours+augment", _augmented(dataset))):
            result = train_and_evaluate(copy.deepcopy(initial), data, recipe, seed=round_)
            cpu_rate = result["train_images"] // BATCH * BATCH / result["train_cpu_seconds"]
            rates[name].append((result["images_per_second"], cpu_rate))
    print(
        f"model {arch.summary()}, batch {BATCH}, {torch.get_num_threads()} threads, "
        f"{len(dataset.train)} images per epoch, {args.rounds} alternating rounds"
    )
    for column, label in ((0, "per wall-clock second"), (1, "per CPU second")):
        print(f"images {label}:")
        summary = {}
        for name, values in rates.items():
            column_values = [v[column] for v in values]
            summary[name] = (max(column_values), statistics.median(column_values))
            print(
                f"  {name:<13} best {summary[name][0]:6.0f}  median {summary[name][1]:6.0f}"
                f"  (rounds: {', '.join(f'{v:.0f}' for v in column_values)})"
            )
        for name in ("ours", "ours+augment"):
            best = summary[name][0] / summary["minimal"][0]
            median = summary[name][1] / summary["minimal"][1]
            print(f"  ratio {name} / minimal: best {best:.3f}, median {median:.3f}")


def _augmented(dataset):
    from dataclasses import replace

    return replace(dataset, augmentation="digits")


if __name__ == "__main__":
    main()
