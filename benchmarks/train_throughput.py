"""Training-loop throughput: evaluators.training against a minimal hand-written loop.

Both train the same architecture (a small convnet of the demo space) from the same
initial weights on the same mnist5k images, batch 128, on this machine's CPU threads.
The minimal loop is what one would write in five minutes: pre-normalized float tensors,
a shuffled index per epoch, AdamW, cross-entropy, nothing else. Ours adds the uint8
batch gather and normalization, warm-up/cosine learning rates, label smoothing,
gradient clipping, decay-free norm groups and the non-finite-loss check; augmentation
is off in the headline comparison (the minimal loop has none) and measured separately.

The runs alternate (minimal, ours, minimal, ours...) so that load from other processes
on a shared machine hits both alike; each side's median epoch rate is reported.

    python benchmarks/train_throughput.py [--rounds 3] [--threads N]
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
) -> float:
    """One epoch of the textbook loop; returns images per second."""
    model.train()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    steps = len(labels) // BATCH
    start = time.perf_counter()
    for i in range(steps):
        index = order[i * BATCH : (i + 1) * BATCH]
        loss = F.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="epochs per side, alternating")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    arch = load_architecture(ARCH)
    dataset = load_dataset(DataConfig(augment=False), arch.input)
    images = (dataset.train.images.float() / 255 - dataset.mean[0]) / dataset.std[0]
    torch.manual_seed(0)
    initial = build_model(arch)
    minimal_model = copy.deepcopy(initial)
    optimizer = torch.optim.AdamW(minimal_model.parameters(), lr=2e-3, weight_decay=0.05)
    recipe = TrainConfig(epochs=1, batch_size=BATCH, lr=2e-3, warmup_epochs=0.5)
    minimal_epoch(minimal_model, images, dataset.train.labels, optimizer, seed=-1)  # warm-up
    rates: dict[str, list[float]] = {"minimal": [], "ours": [], "ours+augment": []}
    for round_ in range(args.rounds):
        rates["minimal"].append(
            minimal_epoch(minimal_model, images, dataset.train.labels, optimizer, seed=round_)
        )
        for name, data in (("ours", dataset), ("ours+augment", _augmented(dataset))):
            result = train_and_evaluate(copy.deepcopy(initial), data, recipe, seed=round_)
            rates[name].append(result["images_per_second"])
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(
        f"model {arch.summary()}, batch {BATCH}, {torch.get_num_threads()} threads, "
        f"{len(dataset.train)} images per epoch, {args.rounds} alternating rounds"
    )
    for name, values in rates.items():
        print(
            f"  {name:<13} {medians[name]:8.0f} images/s  (rounds: "
            f"{', '.join(f'{v:.0f}' for v in values)})"
        )
    print(f"ratio ours / minimal:          {medians['ours'] / medians['minimal']:.3f}")
    print(f"ratio ours+augment / minimal:  {medians['ours+augment'] / medians['minimal']:.3f}")


def _augmented(dataset):
    from dataclasses import replace

    return replace(dataset, augmentation="digits")


if __name__ == "__main__":
    main()
