"""Time to build and count models (targets: sampled CIFAR nets < 50 ms median; zoo
models up to 5 GMACs < 1 s median at 224x224, params and FLOPs counted).

Part 1 builds seeded samples of the bundled `cifar` space and counts their parameters;
its baseline constructs torchvision's ResNet-18 for 10 classes and counts it.
Part 2 builds each zoo model of at most 5 GMACs and counts its parameters and its
FLOPs (fvcore, one trace at 224x224); its baseline does the same with
`timm.create_model` of the same network. Prints medians and ratios.

    python benchmarks/build_and_count.py [--samples 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import timm
import torch
import torchvision

from evaluators.flops import count_flops
from search_space import (
    build_model,
    count_params,
    load_architecture,
    load_space,
    sample_architectures,
)
from search_space.timm_names import TIMM_NAMES

ZOO_GMACS_LIMIT = 5.0


def median_ms(function, items) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def sampled_cifar(samples: int) -> None:
    archs = sample_architectures(load_space("cifar"), samples, seed=0)
    build_model(archs[0])  # warm-up: imports and first allocations
    ours = median_ms(lambda arch: count_params(build_model(arch)), archs)
    baseline = median_ms(
        lambda _: count_params(torchvision.models.resnet18(num_classes=10)), range(samples)
    )
    print(f"sampled cifar architectures: median build+count {ours:.1f} ms ({samples} samples)")
    print(f"baseline torchvision resnet18: median build+count {baseline:.1f} ms")
    verdict = "PASS" if ours < 50 else "FAIL"
    print(f"ratio ours/baseline: {ours / baseline:.2f}; target ours < 50 ms -> {verdict}\n")


def count(model: torch.nn.Module) -> float:
    count_params(model)
    return count_flops(model, (3, 224, 224))["flops"]


def zoo(repeats: int) -> None:
    print("| zoo model | GMACs | ours build+count (ms) | timm build+count (ms) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    worst = 0.0
    for name, timm_name in sorted(TIMM_NAMES.items()):
        arch = load_architecture(name)
        gmacs = count(build_model(arch)) / 1e9  # also the warm-up
        if gmacs > ZOO_GMACS_LIMIT:
            continue
        ours = median_ms(lambda a: count(build_model(a)), [arch] * repeats)
        theirs = median_ms(lambda t: count(timm.create_model(t)), [timm_name] * repeats)
        worst = max(worst, ours)
        print(f"| {name} | {gmacs:.2f} | {ours:.0f} | {theirs:.0f} | {ours / theirs:.2f} |")
    verdict = "PASS" if worst < 1000 else "FAIL"
    print(f"\nslowest zoo model: {worst:.0f} ms median; target < 1000 ms -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sampled_cifar(args.samples)
    zoo(args.repeats)


if __name__ == "__main__":
    main()
