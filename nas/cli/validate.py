"""`nas validate SPACE`: check a space file and print its size."""

from __future__ import annotations

import argparse

from nas.console import human, note, print_json
from search_space import SearchSpace, load_space, space_size
from search_space.errors import SpaceError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check a space file and print its size")
    parser.add_argument("space", help="a space file, or the name of a bundled space (demo, cifar)")
    parser.add_argument(
        "--no-data-check",
        action="store_true",
        help="skip checking that the data: section's files exist (a space for another machine)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nas.engine.settings import validate_run_config

    space = load_space(args.space)
    validate_run_config(space.run_config, source=space.source)
    free = space.free_parameters()
    size = space_size(space)
    data = None if args.no_data_check else _check_data(space)
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
                "data": data,
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
    print(f"  data: {data}" if data else "  data: not checked (--no-data-check)")
    return 0


def _check_data(space: SearchSpace) -> str:
    """Where the data is, read as a search reads it (relative paths from the space
    file's folder); a SpaceError naming the absolute path when it is missing."""
    from evaluators.config import DataConfig
    from evaluators.datasets import describe_source
    from nas.engine.space_paths import resolve_file_paths

    run_config, notes = resolve_file_paths(space.run_config, space.source)
    for remark in notes:
        note(f"nas validate: {remark}")
    data = DataConfig.from_dict(run_config.get("data"), "data")
    try:
        return describe_source(data, space.input)
    except SpaceError as error:
        problem = "; ".join(error.problems)
        skip = "(or skip this check: --no-data-check)"
        raise SpaceError(f"{space.source}: {problem} {skip}") from None
