"""Time to build and count a sampled CIFAR-size architecture (target: median < 50 ms).

Builds seeded samples of the bundled `cifar` space and counts their parameters, and
in the same run times a baseline: constructing torchvision's ResNet-18 for 10 classes
and counting its parameters. Prints both medians and the ratio.

    python benchmarks/build_and_count.py [--samples 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchvision

from search_space import build_model, count_params, load_space, sample_architectures


def median_ms(function, items) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = load_space("cifar")
    archs = sample_architectures(space, args.samples, seed=0)
    build_model(archs[0])  # warm-up: imports and first allocations
    ours = median_ms(lambda arch: count_params(build_model(arch)), archs)
    baseline = median_ms(
        lambda _: count_params(torchvision.models.resnet18(num_classes=10)), range(args.samples)
    )
    params = statistics.median(count_params(build_model(a)) for a in archs[:20])
    print(
        f"sampled cifar architectures: median build+count {ours:.1f} ms "
        f"(median size {params / 1e6:.2f}M params, {args.samples} samples)"
    )
    print(f"baseline torchvision resnet18 (11.2M params): median build+count {baseline:.1f} ms")
    print(
        f"ratio ours/baseline: {ours / baseline:.2f}; target: ours < 50 ms -> "
        f"{'PASS' if ours < 50 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
