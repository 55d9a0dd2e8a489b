"""`nas search [SPACE]`: run a multi-objective architecture search with Optuna and Ray Tune.

With no SPACE it searches the bundled demo space on mnist5k. Settings come from the
space file's data:, train: and search: sections; flags win.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nas.console import human, print_json
from nas.engine.samplers import SAMPLERS
from nas.runs import format as rf

# Flags that are settings of `nas.search`, by the same names (nas/engine/overrides.py).
_SETTINGS = (
    "trials",
    "sampler",
    "objectives",
    "address",
    "cpus_per_trial",
    "gpus_per_trial",
    "max_concurrent",
    "early_stopping",
    "storage",
    "study_name",
    "output",
    "seed",
    "seed_archs",
    "max_retries",
    "plots",
    "data",
    "epochs",
    "repeats",
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="search a space (default: the bundled demo)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("space", nargs="?", help="a space file or bundled space name (default: demo)")
    p.add_argument("--trials", type=int, help="candidates to decide on (all outcomes count)")
    p.add_argument("--sampler", help=f"one of {', '.join(SAMPLERS)}")
    p.add_argument(
        "--objectives",
        help="e.g. accuracy:max,flops:min (also params, latency, loss, zero-cost proxies)",
    )
    p.add_argument(
        "--constraint",
        action="append",
        dest="constraints",
        metavar="EXPR",
        help="flops<=X or params<=Y, checked before training (repeatable)",
    )
    p.add_argument(
        "--address",
        help="auto or HOST:PORT of a Ray cluster (`ray start --head`); "
        "default: Ray in this process",
    )
    p.add_argument(
        "--cpus-per-trial",
        type=float,
        help="CPUs per trial; torch uses that many threads (default 1)",
    )
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        help="GPUs per trial, fractions share one (default: 1 if the cluster has GPUs)",
    )
    p.add_argument("--max-concurrent", type=int, help="trials at once (default: what fits)")
    p.add_argument(
        "--repeats",
        help="count (default) or skip: with counted or looked-up objectives only, a "
        "proposal repeating an earlier architecture is not a query (no --trials spent)",
    )
    p.add_argument(
        "--early-stopping",
        help="stop weak trials at epoch milestones: mo_asha (by Pareto rank), asha "
        "(by accuracy) or none",
    )
    p.add_argument("--storage", help="Optuna storage URL (default sqlite:///RUN/study.db)")
    p.add_argument("--study-name", help="study name in the storage (default: the run folder's)")
    p.add_argument("--output", help="run folder (default results/<space>-<time>/)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output DIR after a stop or a crash",
    )
    p.add_argument("--seed", type=int, help="seeds the sampler (default 0)")
    p.add_argument(
        "--seed-archs",
        nargs="+",
        metavar="FILE",
        help="architecture files to evaluate first (e.g. zoo models, rescaled)",
    )
    p.add_argument(
        "--max-retries", type=int, help="re-runs of a trial whose worker died (default 2)"
    )
    p.add_argument("--data", help="dataset name (overrides data.name)")
    p.add_argument("--epochs", type=int, help="training epochs per trial (overrides train.epochs)")
    p.add_argument(
        "--no-plots",
        dest="plots",
        action="store_false",
        default=None,
        help="do not redraw plots after every trial",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document at the end")
    p.add_argument(
        "--verbose", action="store_true", help="let Ray's and Optuna's own log lines through"
    )
    p.set_defaults(run=run)


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, as `nas.search` settings, checked with errors naming the flags."""
    from nas.engine.overrides import overrides_from_settings

    settings = {name: getattr(args, name, None) for name in _SETTINGS}
    settings["constraint"] = list(args.constraints) if args.constraints else None
    settings = {name: value for name, value in settings.items() if value is not None}
    overrides_from_settings(settings, lambda name: "--" + name.replace("_", "-"))
    return settings


def run(args: argparse.Namespace) -> int:
    import contextlib

    from nas.api import search
    from nas.runs.lock import run_lock

    # The lock before the flags' checks, which import torch: a folder another search is
    # using is refused in about a second (the search takes it again, re-entrantly).
    early = run_lock(Path(args.output)) if args.output else contextlib.nullcontext()
    with early:
        settings = settings_from_args(args)
        run = search(args.space, resume=args.resume, verbose=args.verbose, **settings)
    outcome = run.outcome
    if args.json:
        print_json(outcome.to_dict())
    else:
        _print_summary(outcome, [o.name for o in run.objectives])
    return _exit_code(outcome, run)


def _exit_code(outcome: Any, run: Any) -> int:
    """0: finished with a complete trial; 1: finished, but no trial completed; 130:
    stopped (Ctrl-C, SIGTERM) before the target. (2: a user error or a lost cluster.)"""
    if not outcome.finished:
        print(
            f"nas search: stopped after {outcome.decided} of {outcome.target} trials; "
            f"continue with: nas search --resume --output {outcome.run_dir}",
            file=sys.stderr,
        )
        return 130
    if not outcome.counts.get("complete"):
        decided = ", ".join(
            f"{n} {state.replace('_', ' ')}" for state, n in outcome.counts.items() if n
        )
        print(
            f"nas search: no trial completed ({decided}); the reasons are in the error "
            f"column of {Path(outcome.run_dir) / rf.TRIALS_CSV}",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_summary(outcome: Any, names: list[str]) -> None:
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in outcome.counts.items() if n)
    if outcome.retried:
        counts += f"; {outcome.retried} retried"
    print(f"run folder: {outcome.run_dir}")
    print(f"trials: {outcome.decided}/{outcome.target} ({counts}) in {outcome.seconds:.0f}s")
    if outcome.hypervolume is not None:
        print(f"hypervolume: {outcome.hypervolume:.6g}")
    print(f"Pareto front ({len(outcome.front)}):")
    for row in outcome.front:
        values = "  ".join(f"{name} {_format(row.get(name))}" for name in names)
        print(f"  #{row['number']:<4} {values}  {row.get('summary') or ''}")
    print(f"next: nas report {outcome.run_dir}")


def _format(value: Any) -> str:
    if isinstance(value, float) and 0 <= value <= 1:
        return f"{value:.4f}"
    return human(value) if isinstance(value, int | float) else str(value)
