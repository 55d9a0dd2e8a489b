"""`nas info ARCH`: parameters and FLOPs, in total and per stage."""

from __future__ import annotations

import argparse

from evaluators.flops import count_arch_flops
from nas.console import human, print_json
from search_space import SpaceError, build_model, count_params, load_architecture, params_by_stage
from search_space.feature_sizes import architecture_sizes


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
    flops = count_arch_flops(model, arch)
    stage_params = params_by_stage(model)
    structure = stage_structure(arch)
    report = {
        "name": arch.name,
        "summary": arch.summary(),
        "input": list(shape),
        "params": count_params(model),
        "flops": flops["flops"],
        "stages": {
            name: {
                **structure.get(name, {}),
                "params": stage_params[name],
                "flops": flops["stages"].get(name, 0.0),
            }
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


def stage_structure(arch) -> dict[str, dict]:
    """Block, depth, width, stride and output resolution of the stem and each stage."""
    sizes = architecture_sizes(arch)  # stem output, then each stage's output
    rows = {"stem": {"block": arch.stem.type, "depth": 1, "width": arch.stem.width}}
    rows["stem"].update(stride=arch.input.resolution // sizes[0][0], resolution=list(sizes[0]))
    for i, stage in enumerate(arch.stages):
        rows[f"stages.{i}"] = {
            "block": stage.block,
            "depth": stage.depth,
            "width": stage.width,
            "stride": stage.stride,
            "resolution": list(sizes[i + 1]),
        }
    rows["head"] = {"block": arch.head.type, "width": arch.input.classes}
    return rows


def _at_resolution(arch, resolution: int):
    """The same architecture at another input size, re-validated through the loader."""
    document = arch.to_dict()
    document["input"]["resolution"] = resolution
    return load_architecture(document)


def _print_table(report: dict) -> None:
    print(f"{report['name']}: {report['summary']}")
    print(f"input {'x'.join(map(str, report['input']))}")
    print(
        f"{'part':<10} {'block':<18} {'depth':>5} {'width':>6} {'stride':>6} "
        f"{'output':>9} {'params':>14} {'FLOPs':>16}"
    )
    for name, row in report["stages"].items():
        size = "x".join(map(str, row.get("resolution", []))) or "-"
        print(
            f"{name:<10} {row.get('block', ''):<18} {row.get('depth', ''):>5} "
            f"{row.get('width', ''):>6} {row.get('stride', ''):>6} {size:>9} "
            f"{row['params']:>14,} {row['flops']:>16,.0f}"
        )
    print(
        f"{'total':<10} {'':<18} {'':>5} {'':>6} {'':>6} {'':>9} "
        f"{report['params']:>14,} {report['flops']:>16,.0f}"
        f"   ({human(report['params'])} params, {human(report['flops'])} FLOPs)"
    )
    print(f"convention: {report['flop_convention']}")
    if report["uncounted_ops"]:
        ops = ", ".join(f"{op} x{n}" for op, n in sorted(report["uncounted_ops"].items()))
        print(f"not counted (elementwise): {ops}")
