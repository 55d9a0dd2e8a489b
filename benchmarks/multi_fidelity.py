"""Compute saved by MO-ASHA: trial-epochs to reach a full-budget search's hypervolume.

For each seed, two real searches of the same space (`nas search`'s own code path: Optuna,
Ray Tune, training on the space's data) with the same seed:

- full budget: ``--trials N``, every trial trained ``--epochs E`` epochs;
- MO-ASHA: ``early_stopping: mo_asha`` (grace ``--grace``, eta ``--eta``), run for
  ``--factor`` x N trials, so that it can spend up to about the full search's compute.

Compute is counted in trial-epochs (every epoch any trial trained, stopped and failed
trials included), in the order the trials finished. The MO-ASHA search's hypervolume is
taken over its complete trials only (stopped trials never enter a front, as in the run
folder), against the full search's reference point, so both are measured on one scale.
A second count takes every model the search trained, a stopped trial's at the epoch it
stopped (its last validation accuracy; the run keeps its numbers, not its weights).
Benchmarks of multi-fidelity schedulers usually count this way (Syne Tune's hypervolume
indicator takes every reported result); the first count is the stricter one, and the
one a user of the run folder gets.
The script prints, per seed, the full search's final hypervolume and compute, the
compute MO-ASHA needed to first reach that hypervolume (or "not reached" with the
hypervolume it ended at), their ratio, and whether the ratio meets the target of 1/3.

It also prints each search's hypervolume after a third of the full search's compute, as
a fraction of the goal: the anytime comparison behind the target.

    python benchmarks/multi_fidelity.py [--seeds 3] [--trials 12] [--epochs 6]
        [--factor 3] [--grace 1] [--eta 3] [--limit IMAGES] [--space demo]
        [--tie-break crowding|hypervolume]
        [--schedulers mo_asha asha]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET = 1 / 3


def search(args: argparse.Namespace, seed: int, scheduler: str, trials: int, out: Path) -> dict:
    """Runs one search; returns its trials in finishing order and its reference point."""
    import optuna

    from nas.engine.config import resolve_experiment
    from nas.engine.runner import run_search
    from nas.runs import format as rf

    overrides: dict[str, Any] = {
        "train": {"epochs": args.epochs},
        "search": {
            "trials": trials,
            "seed": seed,
            "early_stopping": scheduler,
            "asha_grace_period": args.grace,
            "asha_reduction_factor": args.eta,
            "asha_tie_break": args.tie_break,
            "plots": False,
            "output": str(out),
        },
    }
    if args.limit:
        overrides["data"] = {"limit": args.limit}
    started = time.monotonic()
    with open("/dev/null", "w") as quiet:
        run_search(resolve_experiment(args.space, overrides), progress_stream=quiet)
    wall = time.monotonic() - started
    info = json.loads((out / rf.RUN_FILE).read_text())
    study = optuna.load_study(
        study_name=info[rf.RUN_STUDY_NAME], storage=f"sqlite:///{out / rf.STUDY_FILE}"
    )
    done = [t for t in study.trials if t.datetime_complete and rf.ATTR_STATE in t.user_attrs]
    done.sort(key=lambda t: t.datetime_complete)
    objectives = study.user_attrs[rf.STUDY_OBJECTIVES]
    rows = [
        {
            "state": t.user_attrs[rf.ATTR_STATE],
            "epochs": int(t.user_attrs.get(rf.ATTR_EPOCHS) or 0),
            "point": list(t.values) if t.user_attrs[rf.ATTR_STATE] == rf.COMPLETE else None,
            "trained": trained_point(t, objectives),
        }
        for t in done
    ]
    reference = study.user_attrs[rf.STUDY_REFERENCE_POINT]
    directions = [o["direction"] for o in objectives]
    return {"rows": rows, "reference": reference, "directions": directions, "wall": wall}


def trained_point(trial: Any, objectives: list[dict]) -> list[float] | None:
    """The objective values of the model a trial left behind: a complete trial's, or a
    stopped trial's at the epoch it stopped (its last validation, its counts); None for
    a failed or infeasible trial, or when an objective was never measured."""
    from nas.engine.objectives import metric_key
    from nas.runs import format as rf

    state = trial.user_attrs[rf.ATTR_STATE]
    if state == rf.COMPLETE:
        return list(trial.values)
    if state != rf.STOPPED_EARLY:
        return None
    metrics = trial.user_attrs.get(rf.ATTR_METRICS) or {}
    values = [metrics.get(metric_key(o["name"])) for o in objectives]
    return None if any(v is None for v in values) else [float(v) for v in values]


def curve(
    run: dict, reference: list[float], directions: list[str], key: str = "point"
) -> list[tuple[int, float]]:
    """(trial-epochs spent, hypervolume so far) after each trial, over `key`: "point"
    counts complete trials only, "trained" every trained model (stopped ones included)."""
    from nas.runs.pareto import hypervolume_history

    volumes = hypervolume_history([r[key] for r in run["rows"]], reference, directions)
    spent, points = 0, []
    for row, volume in zip(run["rows"], volumes):
        spent += row["epochs"]
        points.append((spent, volume))
    return points


def reach(curve_points: list[tuple[int, float]], goal: float) -> int | None:
    """Trial-epochs spent when the curve first reaches `goal` (None if it never does)."""
    return next((spent for spent, volume in curve_points if volume >= goal - 1e-12), None)


def volume_at(curve_points: list[tuple[int, float]], budget: float) -> float:
    """The hypervolume of the complete trials finished within `budget` trial-epochs."""
    return max((volume for spent, volume in curve_points if spent <= budget), default=0.0)


def compare(args: argparse.Namespace, seed: int, folder: Path) -> list[dict]:
    """One seed: the full search, then each scheduler's search; one row per scheduler."""
    full = search(args, seed, "none", args.trials, folder / f"full-{seed}")
    reference, directions = full["reference"], full["directions"]
    full_curve = curve(full, reference, directions)
    full_spent, goal = full_curve[-1]
    rows = []
    for scheduler in args.schedulers:
        fast = search(
            args, seed, scheduler, args.factor * args.trials, folder / f"{scheduler}-{seed}"
        )
        fast_curve = curve(fast, reference, directions)
        reached = reach(fast_curve, goal)
        anytime = curve(fast, reference, directions, key="trained")
        reached_anytime = reach(anytime, goal)
        rows.append(
            {
                "seed": seed,
                "scheduler": scheduler,
                "full_hv": goal,
                "full_epochs": full_spent,
                "full_wall": full["wall"],
                # anytime comparison: both searches' hypervolume after a third of the compute
                "full_hv_at_target": volume_at(full_curve, TARGET * full_spent),
                "mo_hv_at_target": volume_at(fast_curve, TARGET * full_spent),
                "mo_epochs_to_reach": reached,
                "mo_final_hv": fast_curve[-1][1] if fast_curve else 0.0,
                "mo_epochs": fast_curve[-1][0] if fast_curve else 0,
                "mo_wall": fast["wall"],
                "mo_stopped": sum(1 for r in fast["rows"] if r["state"] == "stopped_early"),
                "mo_complete": sum(1 for r in fast["rows"] if r["point"] is not None),
                "mo_trials": len(fast["rows"]),
                "ratio": reached / full_spent if reached is not None else None,
                # every trained model counted, stopped ones at the epoch they stopped
                "any_epochs_to_reach": reached_anytime,
                "any_ratio": reached_anytime / full_spent if reached_anytime is not None else None,
                "any_final_hv": anytime[-1][1] if anytime else 0.0,
                "any_hv_at_target": volume_at(anytime, TARGET * full_spent),
            }
        )
    return rows


HEADER = (
    "seed  scheduler  full HV    full trial-epochs (wall s)  trial-epochs to reach  ratio"
    "  HV at 1/3 (full, sched)  sched final HV, trial-epochs, stopped/complete/trials (wall s)"
    "  | every trained model: to reach, ratio, HV at 1/3"
)


def row_line(r: dict) -> str:
    reach_text = r["mo_epochs_to_reach"] if r["mo_epochs_to_reach"] is not None else "not reached"
    ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else "  n/a"
    goal = r["full_hv"]
    third = f"{r['full_hv_at_target'] / goal:.3f}, {r['mo_hv_at_target'] / goal:.3f}"
    return (
        f"{r['seed']:>4}  {r['scheduler']:<9}  {r['full_hv']:.4g}  {r['full_epochs']:>6} "
        f"({r['full_wall']:6.1f})            {reach_text:>11}          {ratio}"
        f"  {third:>23}  {r['mo_final_hv']:.4g}, {r['mo_epochs']}, "
        f"{r['mo_stopped']}/{r['mo_complete']}/{r['mo_trials']} ({r['mo_wall']:.1f})"
        f"  | {_reached(r['any_epochs_to_reach'])}, {_ratio(r['any_ratio'])}, "
        f"{r['any_hv_at_target'] / goal:.3f}"
    )


def _reached(epochs: int | None) -> str:
    return "not reached" if epochs is None else str(epochs)


def _ratio(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.3f}"


def report(results: list[dict]) -> None:
    print(HEADER)
    for r in results:
        print(row_line(r))
    for scheduler in dict.fromkeys(r["scheduler"] for r in results):
        summarize(scheduler, [r for r in results if r["scheduler"] == scheduler])


def summarize(scheduler: str, results: list[dict]) -> None:
    verdict(scheduler, "complete trials only (the run's front)", [r["ratio"] for r in results])
    verdict(
        scheduler,
        "every trained model, stopped ones at their last epoch",
        [r["any_ratio"] for r in results],
    )
    third_full = statistics.mean(r["full_hv_at_target"] / r["full_hv"] for r in results)
    third_fast = statistics.mean(r["mo_hv_at_target"] / r["full_hv"] for r in results)
    print(
        f"  after 1/3 of the full compute, fraction of the goal hypervolume: full search "
        f"{third_full:.3f}, {scheduler} {third_fast:.3f} (mean over seeds)"
    )
    for r in results:
        if r["ratio"] is None:
            print(
                f"  seed {r['seed']}: not reached within {r['mo_epochs']} trial-epochs "
                f"({r['mo_epochs'] / r['full_epochs']:.2f} of the full budget); final HV "
                f"{r['mo_final_hv']:.4g} = {r['mo_final_hv'] / r['full_hv']:.3f} of the goal"
            )


def verdict(scheduler: str, counted: str, ratios: list[float | None]) -> None:
    """The target line for one way of counting: seeds reached, mean ratio, by how much
    it misses (a seed that never reached the goal counts as missing it)."""
    reached = [r for r in ratios if r is not None]
    print(
        f"{scheduler}, {counted}: reached the full-budget hypervolume on {len(reached)} "
        f"of {len(ratios)} seeds"
    )
    if not reached:
        print(f"  target <= {TARGET:.3f}: missed (never reached)")
        return
    mean = statistics.mean(reached)
    judged = "meets" if mean <= TARGET else f"misses by {mean - TARGET:.3f} ({mean / TARGET:.2f}x)"
    if mean <= TARGET and len(reached) < len(ratios):
        judged = "misses: not reached on every seed"
    print(f"  mean compute ratio where reached: {mean:.3f}; target <= {TARGET:.3f}: {judged}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="demo")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=12, help="trials of the full search")
    parser.add_argument("--epochs", type=int, default=6, help="the full budget per trial")
    parser.add_argument("--factor", type=int, default=3, help="MO-ASHA trials = factor x trials")
    parser.add_argument("--grace", type=int, default=1)
    parser.add_argument("--eta", type=float, default=3.0)
    parser.add_argument("--limit", type=int, default=None, help="images of the dataset to use")
    parser.add_argument("--tie-break", default="crowding", choices=["crowding", "hypervolume"])
    parser.add_argument(
        "--schedulers",
        nargs="+",
        default=["mo_asha"],
        choices=["mo_asha", "asha"],
        help="schedulers to compare with the full search (asha: accuracy alone)",
    )
    args = parser.parse_args()
    results: list[dict] = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="nas-multi-fidelity-") as folder:
        for seed in range(args.seeds):
            for row in compare(args, seed, Path(folder)):
                print(row_line(row), flush=True)  # a cut-off run keeps its finished seeds
                results.append(row)
    print()
    report(results)


if __name__ == "__main__":
    main()
