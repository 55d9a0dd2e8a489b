"""Which sampler should `nas search` use by default? Hypervolume after N trials, by measurement.

Every sampler `nas search` offers, random search included, runs the same cheap and
deterministic bi-objective problem on the bundled CIFAR-size space: maximize a zero-cost
proxy (SynFlow by default; no training) and minimize FLOPs, N trials, over several
seeds. The trials go through the search's own code path: Optuna ask/tell, define-by-run
sampling with `OptunaChooser`, the search's sampler settings (`nas.engine.samplers`), and with
``--constraint`` the same relative constraint values the search sets.

Hypervolume is measured in quantile space, so that no single extreme candidate decides
the table (SynFlow grows with depth: whoever finds the deepest corner would otherwise own
almost all of the volume). Each objective is mapped through its empirical distribution
over every candidate evaluated in any run, from 0 (the worst seen) to 1 (the best seen);
the mapping is monotonic, so it keeps every dominance relation, and the reference point
is (0, 0). A hypervolume of 1.0 would be one candidate best at both. Also printed: the
hypervolume halfway through, each sampler's mean rank among all samplers per seed, how
often it beats random search on the same seed, and its mean time per `ask`.

    python benchmarks/sampler_hypervolume.py [--trials 30] [--seeds 5] [--jobs 2]
        [--space cifar] [--proxy synflow] [--samplers tpe nsga2 ...] [--constraint flops<=5e7]
"""

from __future__ import annotations

import argparse
import bisect
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path


def _shape(space) -> tuple[int, int, int]:
    return (space.input.channels, space.input.resolution, space.input.resolution)


@cache
def _space(name: str):
    from search_space import load_space

    return load_space(name)


_CACHE: dict[tuple, tuple[float, float, float]] = {}


def evaluate(space_name: str, proxy: str, arch) -> tuple[float, float, float]:
    """(proxy score, FLOPs, params) of an architecture, memoized by its YAML."""
    from evaluators.flops import count_flops
    from evaluators.proxies import compute_proxy
    from search_space import build_model, count_params

    key = (space_name, proxy, arch.to_yaml(run_config=False))
    if key not in _CACHE:
        model = build_model(arch)
        shape = _shape(_space(space_name))
        flops = count_flops(model, shape)["flops"]
        score = compute_proxy(proxy, model, shape, seed=0)
        _CACHE[key] = (score, flops, float(count_params(model)))
    return _CACHE[key]


def run(job: tuple) -> dict:
    """One sampler, one seed: N trials; returns every trial's values and feasibility.

    With `parallel` K > 1, K trials are asked before any of them is told, as when K
    workers run at once (TPE then uses its constant liar, as the search does).
    """
    import warnings

    import optuna
    import torch

    from nas.engine.chooser import OptunaChooser
    from nas.engine.constraints import parse_constraint_text
    from nas.engine.samplers import make_sampler
    from search_space import sample_architecture

    sampler_name, seed, trials, space_name, proxy, constraint_texts, parallel = job
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    constraints = [parse_constraint_text(text) for text in constraint_texts]
    space = _space(space_name)
    sampler = make_sampler(sampler_name, seed=seed, trials=trials, parallel=parallel > 1)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    points, ask_seconds, pending = [], 0.0, []
    for i in range(trials):
        start = time.perf_counter()
        trial = study.ask()
        pending.append((trial, sample_architecture(space, OptunaChooser(trial))))
        ask_seconds += time.perf_counter() - start
        if len(pending) == parallel or i == trials - 1:
            points += [_tell(study, t, arch, space_name, proxy, constraints) for t, arch in pending]
            pending = []
    return {
        "sampler": sampler_name,
        "seed": seed,
        "points": points,
        "ask_ms": 1000 * ask_seconds / trials,
    }


def _tell(study, trial, arch, space_name: str, proxy: str, constraints: list):
    """Evaluates and tells one trial; its (score, flops), or None if failed or infeasible."""
    import optuna

    try:
        score, flops, params = evaluate(space_name, proxy, arch)
    except Exception:  # a candidate the proxy cannot score (overflow): a failed trial
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return None
    counts = {"flops": flops, "params": params}
    feasible = True
    for constraint in constraints:
        violation = constraint.violation(counts[constraint.metric])
        trial.set_constraint(constraint.key(), violation)
        feasible &= violation <= 0
    study.tell(trial, [score, flops])
    return (score, flops) if feasible else None


def main() -> None:
    from nas.engine.samplers import DEFAULT_SAMPLER, SAMPLERS
    from nas.runs.pareto import hypervolume

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--space", default="cifar")
    parser.add_argument("--proxy", default="synflow")
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS))
    parser.add_argument("--constraint", action="append", default=[])
    parser.add_argument(
        "--parallel", type=int, default=1, help="trials asked before any is told, as with K workers"
    )
    parser.add_argument("--save", help="write every run's points as JSON here")
    args = parser.parse_args()

    jobs = [
        (name, seed, args.trials, args.space, args.proxy, tuple(args.constraint), args.parallel)
        for seed in range(args.seeds)
        for name in args.samplers
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run, jobs))
    seconds = time.perf_counter() - started

    every = [p for r in results for p in r["points"] if p is not None]
    scores, flops = sorted(p[0] for p in every), sorted(p[1] for p in every)

    def quantiles(point: tuple) -> tuple[float, float]:
        # share of all candidates that this one beats or ties, per objective (1 = best seen)
        return (
            bisect.bisect_right(scores, point[0]) / len(scores),
            (len(flops) - bisect.bisect_left(flops, point[1])) / len(flops),
        )

    def volume(points: list) -> float:
        kept = [quantiles(p) for p in points if p is not None]
        return hypervolume(kept, (0.0, 0.0), ["maximize", "maximize"]) if kept else 0.0

    for r in results:
        r["hv"] = volume(r["points"])
        r["hv_half"] = volume(r["points"][: args.trials // 2])
    by_seed: dict[int, dict[str, float]] = {}
    for r in results:
        by_seed.setdefault(r["seed"], {})[r["sampler"]] = r["hv"]
    ranks: dict[str, list[int]] = {name: [] for name in args.samplers}
    for hvs in by_seed.values():
        order = sorted(hvs, key=lambda name: -hvs[name])
        for name in hvs:
            ranks[name].append(order.index(name) + 1)

    print(
        f"space {args.space}, maximize {args.proxy} vs minimize FLOPs, {args.trials} trials, "
        f"{args.seeds} seeds"
        + (f", constraints {', '.join(args.constraint)}" if args.constraint else "")
        + (f", {args.parallel} trials in flight" if args.parallel > 1 else "")
        + f"; {len(jobs)} runs in {seconds:.0f} s"
    )
    print(
        f"hypervolume in quantile space over {len(every)} evaluations ({args.proxy} "
        f"{scores[0]:.3g}..{scores[-1]:.3g}, FLOPs {flops[0]:.3g}..{flops[-1]:.3g})"
    )
    print()
    header = (
        f"| sampler | HV after {args.trials} (mean ± sd) | HV after {args.trials // 2} | "
        "mean rank | beats random | ask ms |"
    )
    print(header)
    print("|" + "---|" * 6)
    rows = []
    for name in args.samplers:
        mine = [r for r in results if r["sampler"] == name]
        hv = [r["hv"] for r in mine]
        beats = (
            sum(
                by_seed[r["seed"]][name] > by_seed[r["seed"]].get("random", float("inf"))
                for r in mine
            )
            if "random" in args.samplers and name != "random"
            else None
        )
        rows.append((statistics.mean(hv), name))
        print(
            f"| {name}{' (default)' if name == DEFAULT_SAMPLER else ''} | "
            f"{statistics.mean(hv):.4f} ± {statistics.pstdev(hv):.4f} | "
            f"{statistics.mean(r['hv_half'] for r in mine):.4f} | "
            f"{statistics.mean(ranks[name]):.1f} | "
            f"{'-' if beats is None else f'{beats}/{len(mine)}'} | "
            f"{statistics.mean(r['ask_ms'] for r in mine):.0f} |"
        )
    best = max(rows)[1]
    if args.save:
        Path(args.save).write_text(json.dumps(results, indent=1))
    print()
    print(f"best mean hypervolume: {best}; default sampler: {DEFAULT_SAMPLER}")


if __name__ == "__main__":
    main()
