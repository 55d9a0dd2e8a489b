"""`nas export RUN`: write chosen Pareto models under RUN/export/<trial>/."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write chosen models of a run to RUN/export/")
    parser.add_argument("run_dir", metavar="RUN", help="a run folder written by `nas search`")
    parser.add_argument(
        "--pick",
        nargs="+",
        default=["pareto"],
        metavar="PICK",
        help="pareto (default), knee, best-accuracy, or trial numbers",
    )
    parser.add_argument(
        "--max-flops",
        type=float,
        metavar="X",
        help="only models with at most X FLOPs (for pareto/knee/best-accuracy)",
    )
    parser.add_argument(
        "--format",
        metavar="LIST",
        help="comma-separated: safetensors (always written), onnx, pt2 (a torch.export "
        "program; replaces torchscript) (default safetensors,onnx)",
    )
    parser.add_argument(
        "--retrain-epochs",
        type=int,
        metavar="N",
        help="train each chosen architecture again for N epochs before export",
    )
    parser.add_argument(
        "--no-check-accuracy",
        action="store_true",
        help="skip re-scoring the reloaded model on the validation split",
    )
    parser.add_argument(
        "--include-chance",
        action="store_true",
        help="also export members marked at chance or far below the run (trials.csv's "
        "quality column); by default pareto, knee and best-accuracy skip them",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nas.console import note
    from nas.runs.export import PartialExport, export_run, parse_formats

    try:
        exported = export_run(
            args.run_dir,
            args.pick,
            max_flops=args.max_flops,
            formats=None if args.format is None else parse_formats(args.format),
            retrain_epochs=args.retrain_epochs,
            check_accuracy=not args.no_check_accuracy,
            include_chance=args.include_chance,
            on_event=note,
        )
        problems: list[str] = []
    except PartialExport as partial:  # the others were exported: shown, then the misses
        exported, problems = partial.exported, partial.problems
    _show(args, exported)
    for problem in problems:
        print(f"nas export: error: {problem}", file=sys.stderr)
    return 2 if problems else 0


def _show(args: argparse.Namespace, exported: list) -> None:
    from nas.console import human, print_json
    from nas.runs.verification import format_summary, read_summary

    if args.json:
        print_json([{"folder": str(e.folder), **e.metrics} for e in exported])
        return
    for item in exported:
        metrics, checks = item.metrics, item.metrics["checks"]
        accuracy = metrics["accuracy"]
        text = f"{item.folder}: {metrics['summary']}"
        text += f", accuracy {100 * accuracy:.2f}%" if accuracy is not None else ""
        text += f", {human(metrics['flops'] or 0)} FLOPs, {human(metrics['params'] or 0)} params"
        text += f" [marked {metrics['quality']}]" if metrics.get("quality") else ""
        onnx = checks.get("onnx") or {}
        if onnx.get("checked"):
            text += f", ONNX max diff {onnx['max_abs_diff']:.1g}"
        print(text)
    sound = [e for e in exported if not e.metrics.get("quality")]
    if sound:  # never a model that learned nothing
        print(f'load one: import nas; model = nas.load_model("{sound[0].folder}")')
    verified = read_summary(args.run_dir)  # after `nas verify`: the front's intervals
    if verified:
        print(format_summary(verified))
