"""FLOP-counting speed: count_flops on ConvNeXt-T at 224 against plain fvcore.

count_flops traces once and reads totals, per-stage counts and the unsupported-op
list from that one trace; the baseline is ``FlopCountAnalysis(model, x).total()``
with fvcore's default handles (which miss attention, so it counts less, not more).
Target: under 1 s. Best and median of --repeat runs, model built once.

    python benchmarks/flops_speed.py [--repeat 5] [--arch convnext_tiny]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from evaluators.flops import count_flops
from search_space import build_model, load_architecture


def _timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="convnext_tiny")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    arch = load_architecture(args.arch)
    model = build_model(arch).eval()
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)

    def plain() -> float:
        from fvcore.nn import FlopCountAnalysis

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analysis = FlopCountAnalysis(model, torch.zeros(1, *shape))
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return float(analysis.total())

    ours, counted = _timed(lambda: count_flops(model, shape), args.repeat)
    baseline, baseline_flops = _timed(plain, args.repeat)
    print(f"{arch.name} at {shape}, {torch.get_num_threads()} threads, {args.repeat} runs each")
    for name, times, flops in (
        ("count_flops", ours, counted["flops"]),
        ("fvcore FlopCountAnalysis.total()", baseline, baseline_flops),
    ):
        print(
            f"  {name:<34} best {min(times):.3f} s, median {statistics.median(times):.3f} s, "
            f"{flops / 1e9:.3f} GFLOPs"
        )
    ratio = statistics.median(ours) / statistics.median(baseline)
    verdict = "met" if statistics.median(ours) < 1.0 else "NOT met"
    print(f"ratio (median): {ratio:.2f}x plain fvcore; target < 1 s: {verdict}")


if __name__ == "__main__":
    main()
