"""`nas info ARCH`: parameters and FLOPs, in total and per stage."""

from __future__ import annotations

import argparse

from evaluators.flops import count_flops
from nas.console import human, print_json
from search_space import SpaceError, build_model, count_params, load_architecture, params_by_stage


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="params and FLOPs of one architecture")
    parser.add_argument("arch", help="an architecture file (all values fixed) or a zoo name")
    parser.add_argument("--resolution", type=int, help="count at this input resolution instead")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    arch = load_architecture(args.arch)
    if args.resolution is not None:
        if args.resolution < 1:
            raise SpaceError(f"--resolution: {args.resolution} must be a positive integer")
        arch = _at_resolution(arch, args.resolution)
    model = build_model(arch).eval()
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    flops = count_flops(model, shape)
    stage_params = params_by_stage(model)
    report = {
        "name": arch.name,
        "summary": arch.summary(),
        "input": list(shape),
        "params": count_params(model),
        "flops": flops["flops"],
        "stages": {
            name: {"params": stage_params[name], "flops": flops["stages"].get(name, 0.0)}
            for name in stage_params
        },
        "flop_convention": flops["flop_convention"],
        "uncounted_ops": flops["uncounted_ops"],
    }
    if args.json:
        print_json(report)
        return 0
    _print_table(report)
    return 0


def _at_resolution(arch, resolution: int):
    """The same architecture at another input size, re-validated through the loader."""
    document = arch.to_dict()
    document["input"]["resolution"] = resolution
    return load_architecture(document)


def _print_table(report: dict) -> None:
    print(f"{report['name']}: {report['summary']}")
    print(f"input {'x'.join(map(str, report['input']))}")
    print(f"{'part':<10} {'params':>14} {'FLOPs':>16}")
    for name, row in report["stages"].items():
        print(f"{name:<10} {row['params']:>14,} {row['flops']:>16,.0f}")
    print(
        f"{'total':<10} {report['params']:>14,} {report['flops']:>16,.0f}"
        f"   ({human(report['params'])} params, {human(report['flops'])} FLOPs)"
    )
    print(f"convention: {report['flop_convention']}")
    if report["uncounted_ops"]:
        ops = ", ".join(f"{op} x{n}" for op, n in sorted(report["uncounted_ops"].items()))
        print(f"not counted (elementwise): {ops}")
