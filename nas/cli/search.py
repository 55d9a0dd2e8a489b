"""`nas search [SPACE]`: run a multi-objective architecture search with Optuna and Ray Tune.

With no SPACE it searches the bundled demo space on mnist5k. Settings come from the
space file's data:, train: and search: sections; flags win.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nas.console import human, print_json
from nas.engine.samplers import SAMPLERS

# flag destination -> (section, key) in the experiment config
_FLAGS = {
    "trials": ("search", "trials"),
    "sampler": ("search", "sampler"),
    "objectives": ("search", "objectives"),
    "address": ("search", "address"),
    "cpus_per_trial": ("search", "cpus_per_trial"),
    "gpus_per_trial": ("search", "gpus_per_trial"),
    "max_concurrent": ("search", "max_concurrent"),
    "early_stopping": ("search", "early_stopping"),
    "storage": ("search", "storage"),
    "study_name": ("search", "study_name"),
    "output": ("search", "output"),
    "seed": ("search", "seed"),
    "seed_archs": ("search", "seed_archs"),
    "max_retries": ("search", "max_retries"),
    "plots": ("search", "plots"),
    "data": ("data", "name"),
    "epochs": ("train", "epochs"),
}


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
    p.set_defaults(run=run)


def overrides_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Only the flags given, checked with the config's own rules but named as flags."""
    from nas.engine.settings import check_setting

    overrides: dict[str, dict[str, Any]] = {"data": {}, "train": {}, "search": {}}
    for dest, (section, key) in _FLAGS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        flag = "--" + dest.replace("_", "-")
        if section == "search":
            check_setting(key, value, flag)
        overrides[section][key] = value
    if args.constraints:
        overrides["search"]["constraint_flags"] = list(args.constraints)
    return overrides


def run(args: argparse.Namespace) -> int:
    from nas.engine.config import resolve_experiment
    from nas.engine.runner import run_search

    experiment = resolve_experiment(args.space, overrides_from_args(args), resume=args.resume)
    for note in experiment.notes:
        print(f"nas search: {note}", file=sys.stderr)
    outcome = run_search(experiment, on_start=lambda: _announce(experiment))
    if args.json:
        print_json(outcome.to_dict())
    else:
        _print_summary(outcome, experiment)
    if not outcome.finished:
        print(
            f"nas search: stopped after {outcome.decided} of {outcome.target} trials; "
            f"continue with: nas search --resume --output {experiment.run_dir}",
            file=sys.stderr,
        )
        return 130
    return 0


def _announce(experiment: Any) -> None:
    search = experiment.search
    where = search.address or "Ray in this process"
    verb = "resuming" if experiment.resume else "searching"
    print(
        f"nas search: {verb} {experiment.space.name} ({search.trials} trials, "
        f"{search.sampler}, {search.objectives_text}) on {where}; "
        f"run folder: {experiment.run_dir}",
        file=sys.stderr,
        flush=True,
    )


def _print_summary(outcome: Any, experiment: Any) -> None:
    counts = ", ".join(f"{n} {state}" for state, n in outcome.counts.items() if n)
    print(f"run folder: {outcome.run_dir}")
    print(f"trials: {outcome.decided}/{outcome.target} ({counts}) in {outcome.seconds:.0f}s")
    if outcome.hypervolume is not None:
        print(f"hypervolume: {outcome.hypervolume:.6g}")
    print(f"Pareto front ({len(outcome.front)}):")
    names = [o.name for o in experiment.search.objectives]
    for row in outcome.front:
        values = "  ".join(f"{name} {_format(row.get(name))}" for name in names)
        print(f"  #{row['number']:<4} {values}  {row.get('summary') or ''}")
    print(f"next: nas report {outcome.run_dir}")


def _format(value: Any) -> str:
    if isinstance(value, float) and 0 <= value <= 1:
        return f"{value:.4f}"
    return human(value) if isinstance(value, int | float) else str(value)
