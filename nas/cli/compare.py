"""`nas compare RUN_A RUN_B ...`: runs of different spaces on the same data, side by side."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare runs: fronts, EDFs, common-reference hypervolume, KS test"
    )
    parser.add_argument("run_dirs", metavar="RUN", nargs="+", help="two or more run folders")
    parser.add_argument(
        "--budget",
        metavar="COLUMN<=X",
        action="append",
        default=[],
        help="also the best accuracy within this budget, e.g. flops<=5e6 (repeatable)",
    )
    parser.add_argument(
        "--band", metavar="COLUMN=LOW:HIGH", help="restrict the error EDFs, e.g. flops=1e6:5e6"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--output",
        metavar="DIR",
        help="where compare.html and plots/compare-*.png go (default: the first run)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nas.api import compare
    from nas.console import note, print_json
    from nas.runs.analysis import render_comparison

    document, written = compare(
        args.run_dirs, budgets=args.budget, band=args.band, seed=args.seed, output=args.output
    )
    if args.json:
        print_json(document)
    else:
        print(render_comparison(document), flush=True)
    for path in written:
        note(f"wrote {path}")
    return 0
