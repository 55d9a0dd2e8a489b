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
    needed = _needs_data(space)
    data = None if args.no_data_check or not needed else _check_data(space)
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
        f"{_count(size)} architectures" + (" (continuous ranges)" if size == float("inf") else "")
    )
    for path in free:
        print(f"  - {path}")
    if not needed:
        print("  data: not needed (the space's objectives read no images)")
    else:
        print(f"  data: {data}" if data else "  data: not checked (--no-data-check)")
    return 0


def _count(size: float) -> str:
    """Exact below a million (15,625), else short (3.2M)."""
    return f"{size:,.0f}" if size < 1e6 else human(size)


def _needs_data(space: SearchSpace) -> bool:
    """False when the space's own objectives read no images (counted or tabular only)."""
    from nas.engine.objectives import needs_images, parse_objectives

    spec = (space.run_config.get("search") or {}).get("objectives")
    if spec is None:
        return True
    return needs_images(parse_objectives(spec, find_functions=False))


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
