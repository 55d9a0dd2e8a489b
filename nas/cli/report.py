"""`nas report RUN`: the Pareto front table, hypervolume, counts by state; plots."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="the Pareto front, hypervolume and plots of a run"
    )
    parser.add_argument("run_dir", metavar="RUN", help="a run folder written by `nas search`")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-plots", action="store_true", help="do not draw RUN/plots/")
    parser.add_argument(
        "--redraw",
        action="store_true",
        help="redraw the plots even when they are newer than the study",
    )
    parser.add_argument(
        "--snapshot",
        metavar="DIR",
        help="also copy the run's tables, plots and front (no weights, no "
        "database) to DIR, e.g. results/reference",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: `nas --help` and the other commands should not pay for pandas/optuna.
    from nas.console import note, print_json
    from nas.runs.report import format_report, report_document, report_run, write_snapshot
    from nas.runs.verification import format_summary, read_summary

    results, plots = report_run(args.run_dir, plots=not args.no_plots, redraw=args.redraw)
    verified = read_summary(args.run_dir)  # after `nas verify`: the front's intervals
    if args.json:
        print_json({**report_document(results), **({"verify": verified} if verified else {})})
    else:
        print(format_report(results, args.run_dir))
        if verified:
            print(format_summary(verified))
    for path in plots:
        note(f"wrote {path.absolute()}")
    if not plots and not args.no_plots:
        for path in _pictures(args.run_dir):
            note(f"up to date (--redraw draws it again): {path.absolute()}")
    if args.snapshot:
        copied = write_snapshot(args.run_dir, args.snapshot)
        note(f"copied {len(copied)} files to {args.snapshot}")
    return 0


def _pictures(run_dir: str) -> list[Path]:
    """The run's page and plots already on disk (nothing was redrawn)."""
    from nas.runs import format as rf

    folder = Path(run_dir)
    return [p for p in [folder / rf.REPORT_HTML] if p.is_file()] + sorted(
        (folder / rf.PLOTS_DIR).glob("*.png")
    )
