"""FLOP-counting speed: count_flops on ConvNeXt-T at 224 against plain fvcore.

count_flops traces once and reads totals, per-stage counts and the unsupported-op
list from that one trace; the baseline is ``FlopCountAnalysis(model, x).total()``
with fvcore's default handles (which miss attention, so it counts less, not more).
Target: under 1 s. Best and median of --repeat alternating runs, model built once
(the first run of each pays one-time costs, e.g. oneDNN kernel set-up). A third column
is our count with every block traced (``repeated_blocks_once=False``): what tracing
repeated identical blocks once saves, on a deep model such as ``--arch cait_xxs24_224``.

    python benchmarks/flops_speed.py [--repeat 5] [--arch convnext_tiny] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from evaluators.flops import count_flops
from search_space import build_model, load_architecture


def _timed(fn) -> tuple[tuple[float, float], object]:
    """((wall seconds, CPU seconds of this process), result)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - start, time.process_time() - cpu_start), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="convnext_tiny")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
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

    ours, baseline, every = [], [], []
    for _ in range(args.repeat):  # alternating, so that load from other processes hits all
        seconds, counted = _timed(lambda: count_flops(model, shape))
        ours.append(seconds)
        seconds, baseline_flops = _timed(plain)
        baseline.append(seconds)
        seconds, full = _timed(lambda: count_flops(model, shape, repeated_blocks_once=False))
        every.append(seconds)
    assert full == counted, "tracing every block must give the same count"
    print(f"{arch.name} at {shape}, {torch.get_num_threads()} threads, {args.repeat} runs each")
    for name, times, flops in (
        ("count_flops", ours, counted["flops"]),
        ("fvcore FlopCountAnalysis.total()", baseline, baseline_flops),
        ("count_flops, every block traced", every, full["flops"]),
    ):
        wall, cpu = [t[0] for t in times], [t[1] for t in times]
        print(
            f"  {name:<33} wall best {min(wall):.3f} s, median {statistics.median(wall):.3f} s;"
            f" CPU median {statistics.median(cpu):.3f} s; {flops / 1e9:.3f} GFLOPs"
        )
    median = statistics.median(t[0] for t in ours)
    ratio = median / statistics.median(t[0] for t in baseline)
    saved = median / statistics.median(t[0] for t in every)
    print(
        f"wall median {median:.3f} s, {ratio:.2f}x plain fvcore, {saved:.2f}x tracing every "
        f"block; target < 1 s: {'met' if median < 1.0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
