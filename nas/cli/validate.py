"""`nas validate SPACE`: check a space file and print its size."""

from __future__ import annotations

import argparse

from nas.console import human, print_json
from search_space import load_space, space_size


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check a space file and print its size")
    parser.add_argument("space", help="a space file, or the name of a bundled space (demo, cifar)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nas.engine.settings import validate_run_config

    space = load_space(args.space)
    validate_run_config(space.run_config, source=space.source)
    free = space.free_parameters()
    size = space_size(space)
    if args.json:
        print_json(
            {
                "name": space.name,
                "source": space.source,
                "valid": True,
                "free_parameters": free,
                "choices": len(free),
                "architectures": size,
                "stages": len(space.stages),
            }
        )
        return 0
    print(f"{space.source}: valid")
    print(
        f"  {space.name}: {len(space.stages)} stages, {len(free)} choices, "
        f"{human(size)} architectures" + (" (continuous ranges)" if size == float("inf") else "")
    )
    for path in free:
        print(f"  - {path}")
    return 0
