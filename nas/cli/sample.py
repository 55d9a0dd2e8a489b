"""`nas sample SPACE`: print seeded architectures as YAML (or JSON) with their counts."""

from __future__ import annotations

import argparse
from typing import Any

from evaluators.flops import count_arch_flops
from nas.console import human, print_json
from search_space import build_model, count_params, load_space, sample_architectures


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample", help="print sampled architectures with params and FLOPs"
    )
    parser.add_argument("space", help="a space file, or the name of a bundled space")
    parser.add_argument("--count", type=int, default=1, help="how many (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same samples")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-flops", action="store_true", help="skip FLOP counting (faster)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise_bad_count(args.count)
    space = load_space(args.space)
    samples = []
    for arch in sample_architectures(space, args.count, args.seed):
        model = build_model(arch)
        flops = None
        if not args.no_flops:
            flops = count_arch_flops(model, arch)["flops"]
        samples.append((arch, count_params(model), flops))
    if args.json:
        print_json(
            [
                {
                    "name": a.name,
                    "summary": a.summary(),
                    "params": p,
                    "flops": f,
                    "architecture": _document(a),
                }
                for a, p, f in samples
            ]
        )
        return 0
    for i, (arch, params, flops) in enumerate(samples):
        if i:
            print("---")
        print(f"# {arch.summary()}")
        print(
            f"# params: {params:,} ({human(params)})"
            + (f", FLOPs: {flops:,.0f} ({human(flops)}, 1 multiply-add = 1 FLOP)" if flops else "")
        )
        print(_yaml(_document(arch)), end="")
    return 0


def _document(arch: Any) -> dict[str, Any]:
    """The architecture as a fixed space file, with `plugins:` naming the plug-in modules
    its components come from, so the printed YAML reloads."""
    from search_space.plugins import needed_plugins

    document = arch.to_dict()
    plugins = needed_plugins(arch)
    if not plugins:
        return document
    return {"name": document.pop("name"), "plugins": plugins, **document}


def _yaml(document: dict[str, Any]) -> str:
    import yaml

    # one flow mapping per stage, as Architecture.to_yaml writes it
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=1000)


def raise_bad_count(count: int) -> None:
    from search_space import SpaceError

    raise SpaceError(f"--count: {count} must be at least 1")
