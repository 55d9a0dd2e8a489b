"""`nas analyze RUN`: which design choice wins at which budget (groups, EDFs, winners)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="which design choice wins at which budget: groups, EDFs, winners"
    )
    parser.add_argument("run_dir", metavar="RUN", help="a run folder written by `nas search`")
    parser.add_argument(
        "--by",
        metavar="KEY",
        action="append",
        default=[],
        help="group the trials by KEY: an architecture path (stages[2].block, stem.type, "
        "stages[0].kernel) or family, has_attention, first_attention_stage, blocks, depth "
        "(repeatable; default: family)",
    )
    parser.add_argument(
        "--budget",
        metavar="COLUMN<=X",
        action="append",
        default=[],
        help="also the best accuracy within this budget, e.g. flops<=5e6 (repeatable)",
    )
    parser.add_argument(
        "--band",
        metavar="COLUMN=LOW:HIGH",
        help="restrict the error EDFs to a FLOPs or params band, e.g. flops=1e6:5e6",
    )
    parser.add_argument(
        "--fanova",
        action="store_true",
        help="key importances by fANOVA (needs scikit-learn; slow) instead of PED-ANOVA",
    )
    parser.add_argument(
        "--no-importance", action="store_true", help="skip which-keys-matter (faster)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the bootstrap and label-permutation draws (default 0)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--no-report", action="store_true", help="do not write RUN/report.html and plots"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nas.api import analyze
    from nas.console import note, print_json

    evaluator = None if args.no_importance else "fanova" if args.fanova else "ped-anova"
    document, written = analyze(
        args.run_dir,
        by=args.by,
        budgets=args.budget,
        band=args.band,
        importance=evaluator,
        seed=args.seed,
        write=not args.no_report,
    )
    if args.json:
        print_json(document)
    else:
        from nas.runs.analysis import render_analysis

        print(render_analysis(document), flush=True)
    for path in written:
        note(f"wrote {path}")
    return 0
