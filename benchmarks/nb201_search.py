"""Our samplers on NAS-Bench-201, through `nas search` with the tabular objective, beside
published results and a plain Optuna loop.

Single objective: mean +/- std over seeds of the best test accuracy (the table's, 200
epochs) after N = 10, 25, 50, 100, 200 queries on CIFAR-10, CIFAR-100 and ImageNet16-120.
Every trial counts as a query, repeats of an architecture included; the duplicate columns
say how many of the first 200 queries repeated a cell (exactly, or up to isomorphism:
NB201's UniqueString). The rows marked "repeats skipped" ran with `search.repeats:
skip`: a proposal of a cell isomorphic to one already queried is recorded but is not a
query, so their N queries are N distinct networks (and their duplicate columns read 0).
Multi-objective: table accuracy versus FLOPs (NB201's counting
convention, as the bundled space sets), hypervolume of
the front found after N queries as a fraction of the table's true front (reference point:
accuracy 0 and the space's largest FLOPs).

    python benchmarks/nb201_search.py          # 3 seeds, gp 1 seed of 50 trials on
                                               # CIFAR-10: about 10 minutes on 2 busy cores
    python benchmarks/nb201_search.py --full   # 30 seeds (gp 5): hours; use --samplers and
                                               # --datasets to split it
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import optuna

import nas
from evaluators.tabular.nb201_counts import EDGES, nb201_counts
from evaluators.tabular.nb201_table import cell_string, load_table
from nas.runs.pareto import hypervolume, pareto_front

CHECKPOINTS = (10, 25, 50, 100, 200)
DATASETS = ("cifar10", "cifar100", "imagenet16")
SAMPLERS = ("tpe", "random", "nsga2", "qmc", "gp", "rea")
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Mean best test accuracy after N queries, N = 10, 25, 50, 100, 200 (the reference
# run: multivariate TPE over the six edges as flat categoricals, 30 seeds, no framework).
PLAIN_TPE = {
    "cifar10": (93.06, 93.75, 94.12, 94.28, 94.36),
    "cifar100": (69.66, 71.30, 72.34, 73.09, 73.43),
    "imagenet16": (43.12, 45.29, 46.28, 46.75, 47.02),
}
RANDOM_EXPECTED_CIFAR10 = (93.10, 93.48, 93.69, 93.85, 93.97)  # exact expectation
# Dong & Yang 2020, Table 5, CIFAR-10 test accuracy under a 12,000 s simulated budget.
PUBLISHED = "REA 93.92+-0.30, random 93.70+-0.36, REINFORCE 93.85+-0.37, BOHB 93.61+-0.52"
OPTIMUM = {"cifar10": 94.37, "cifar100": 73.51, "imagenet16": 47.31}
FLOP_CONVENTION = "nb201"  # the bundled space's search.flop_convention: NB201's own counter


def run_search(
    sampler: str, objectives: str, seed: int, trials: int, folder: Path, repeats: str = "count"
) -> list:
    """The queries, in order, of `nas search nb201` (progress silenced): every trial, or
    with repeats skipped, every trial but the skipped repeats."""
    output = folder / f"{sampler}-{seed}-{repeats}-{abs(hash(objectives)) % 10_000}"
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        run = nas.search(
            "nb201", trials=trials, sampler=sampler, seed=seed, output=str(output),
            objectives=objectives, plots=False, repeats=repeats,
        )  # fmt: skip
    study = optuna.load_study(study_name=run.outcome.study_name, storage=run.outcome.storage)
    ordered = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    return [t for t in ordered if t.user_attrs.get("repeat_of") is None]


def cells_of(trials: list) -> list[str]:
    return [cell_string({k: t.params[f"tied.{k}"] for k in EDGES}) for t in trials]


def best_after(trials: list, name: str) -> list[float]:
    table, cells = load_table(), cells_of(trials)
    scores = [table.accuracy[name][table.index[c]] * 100 for c in cells]
    return [max(scores[:n]) for n in CHECKPOINTS if n <= len(scores)]


def duplicates(trials: list) -> tuple[float, float]:
    """Fractions of queries that repeat an earlier cell: exactly, and up to isomorphism."""
    table, cells = load_table(), cells_of(trials)
    unique = [table.unique[table.index[c]] for c in cells]
    repeats = (len(cells) - len(set(cells))) / len(cells)
    return repeats, (len(unique) - len(set(unique))) / len(unique)


def true_front(name: str) -> tuple[list[list[float]], list[float]]:
    table = load_table()
    points = []
    for cell, row in table.index.items():
        edges = dict(zip(EDGES, [p.split("~")[0] for p in cell.replace("+", "").split("|") if p]))
        flops = nb201_counts(edges, convention=FLOP_CONVENTION)["flops"]
        points.append([table.accuracy[name][row], flops])
    reference = [0.0, max(p[1] for p in points)]
    return points, reference


def relative_hv(trials: list, name: str, front: tuple) -> list[float]:
    points, reference = front
    directions = ["maximize", "minimize"]
    best = hypervolume([points[i] for i in pareto_front(points, directions)], reference, directions)
    found = [list(t.values) for t in trials]
    return [
        hypervolume(found[:n], reference, directions) / best for n in CHECKPOINTS if n <= len(found)
    ]


def mean_std(rows: list[list[float]]) -> list[str]:
    columns = [list(c) for c in zip(*rows)]
    return [f"{statistics.mean(c):.2f}+-{statistics.pstdev(c):.2f}" for c in columns]


def single_objective(args: argparse.Namespace, folder: Path) -> None:
    print(f"\nbest test accuracy (%) after N queries, mean+-std over seeds; N = {CHECKPOINTS}")
    print(f"published (CIFAR-10, 12,000 s budget): {PUBLISHED}")
    for dataset in args.datasets:
        print(f"\n{dataset} (optimum {OPTIMUM[dataset]}):")
        print(f"  {'plain Optuna TPE':<22} " + "  ".join(f"{v:>11.2f}" for v in PLAIN_TPE[dataset]))
        if dataset == "cifar10":
            print(
                f"  {'random (expectation)':<22} "
                + "  ".join(f"{v:>11.2f}" for v in RANDOM_EXPECTED_CIFAR10)
            )
        for sampler, repeats in [(s, "count") for s in args.samplers] + [
            (s, "skip") for s in args.skip_repeats
        ]:
            seeds, trials = args.seeds, max(CHECKPOINTS)
            if sampler == "gp":
                seeds, trials = args.gp_seeds, args.gp_trials
            if sampler == "gp" and dataset != "cifar10" and not args.full:
                continue
            start, rows, dupes = time.perf_counter(), [], []
            for seed in range(seeds):
                found = run_search(sampler, f"nb201_{dataset}:max", seed, trials, folder, repeats)
                rows.append(best_after(found, f"nb201_{dataset}"))
                dupes.append(duplicates(found))
            seconds = (time.perf_counter() - start) / seeds
            exact, iso = (statistics.mean(d[i] for d in dupes) for i in (0, 1))
            skipped = ", repeats skipped" if repeats == "skip" else ""
            label = f"{sampler} ({seeds} seeds{skipped})"
            cells = "  ".join(f"{c:>11}" for c in mean_std(rows))
            notes = f"repeats {exact:.0%}, isomorphic {iso:.0%}, {seconds:.0f} s/search"
            print(f"  {label:<22} {cells}   {notes}", flush=True)


def multi_objective(args: argparse.Namespace, folder: Path) -> None:
    print(f"\nhypervolume / true front's, accuracy vs FLOPs, after N = {CHECKPOINTS} queries")
    for dataset in args.mo_datasets:
        front = true_front(f"nb201_{dataset}")
        print(f"{dataset}:")
        for sampler in args.mo_samplers:
            rows = [
                relative_hv(
                    run_search(sampler, f"nb201_{dataset}:max,flops:min", seed, 200, folder),
                    f"nb201_{dataset}",
                    front,
                )
                for seed in range(args.seeds)
            ]
            columns = [list(c) for c in zip(*rows)]
            cells = [f"{statistics.mean(c):.3f}+-{statistics.pstdev(c):.3f}" for c in columns]
            print(f"  {sampler + f' ({args.seeds} seeds)':<22} " + "  ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="30 seeds (gp 5), every dataset")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--gp-seeds", type=int, default=1)
    parser.add_argument("--gp-trials", type=int, default=50)
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--mo-samplers", default="tpe,random,nsga2")
    parser.add_argument("--mo-datasets", default="cifar10")
    parser.add_argument("--skip-mo", action="store_true")
    parser.add_argument(
        "--skip-repeats",
        default="tpe",
        help="samplers to run again with search.repeats: skip (isomorphic cells not queried)",
    )
    args = parser.parse_args()
    if args.full:
        args.seeds, args.gp_seeds, args.gp_trials = 30, 5, 200
    args.samplers = [s for s in args.samplers.split(",") if s]
    args.skip_repeats = [s for s in args.skip_repeats.split(",") if s]
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.mo_samplers = [s for s in args.mo_samplers.split(",") if s]
    args.mo_datasets = [d for d in args.mo_datasets.split(",") if d]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # Run folders in memory where the system offers it: this benchmark measures what the
    # samplers find, not the disk (benchmarks/nb201_scale.py times the search on disk).
    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=memory) as folder:
        single_objective(args, Path(folder))
        if not args.skip_mo:
            multi_objective(args, Path(folder))


if __name__ == "__main__":
    main()
