"""Framework overhead of `nas search`: the share of wall time not spent in the evaluator's
own training (target: at most 10% for trials that train for about 10 s).

One real search in this process: local Ray, Ray Tune, Optuna with SQLite storage, the run
folder refreshed after every trial. Trials run one at a time on all cores, so every second
of wall time is either the evaluator's training and validation (``train_and_evaluate``'s
own ``train_seconds + eval_seconds``, recorded per trial) or framework: Ray start-up and
scheduling, worker start-up, sampling, building, counting, reporting, the run folder.

Printed: the ratio over the whole command, and over the trial loop alone (from the first
trial's start to the last one's end, i.e. without the one-time Ray start and shutdown).

    python benchmarks/search_overhead.py [--trials 8] [--epochs 5] [--limit 5000]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import yaml

# A small CNN with a few choices: about 10 s of training per trial on 2 CPU cores.
SPACE = {
    "name": "overhead",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [16, 24], "stride": 2},
    "stages": [
        {"block": ["resnet", "mbconv"], "depth": 1, "width": [24, 32], "kernel": 3, "expansion": 2},
        {
            "block": ["resnet", "convnext"],
            "depth": 1,
            "width": [32, 48],
            "stride": 2,
            "kernel": 3,
            "expansion": 2,
        },
    ],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k"},
    "train": {"batch_size": 128},
}


def main() -> None:
    import optuna

    from nas.engine.config import resolve_experiment
    from nas.engine.runner import run_search

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="images of mnist5k to use")
    parser.add_argument("--cpus", type=float, default=2.0, help="CPUs per trial (all cores)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nas-overhead-") as folder:
        space = Path(folder) / "space.yaml"
        document = {**SPACE, "data": {"name": "mnist5k", "limit": args.limit}}
        space.write_text(yaml.safe_dump(document, sort_keys=False))
        overrides = {
            "train": {"epochs": args.epochs},
            "search": {
                "trials": args.trials,
                "max_concurrent": 1,
                "cpus_per_trial": args.cpus,
                "output": str(Path(folder) / "run"),
                "sampler": "tpe",
            },
        }
        started = time.time()
        experiment = resolve_experiment(str(space), overrides)
        run_search(experiment, progress_stream=open("/dev/null", "w"))  # noqa: SIM115
        wall = time.time() - started
        study = optuna.load_study(
            study_name="run", storage=f"sqlite:///{Path(folder) / 'run' / 'study.db'}"
        )
        trials = [t for t in study.trials if t.state.is_finished()]

    trials.sort(key=lambda t: t.number)
    seconds = [t.user_attrs["seconds"] for t in trials]
    per_trial = [s.get("train", 0.0) for s in seconds]
    training = sum(per_trial)
    first, last = trials[0].datetime_start.timestamp(), trials[-1].datetime_complete.timestamp()
    loop = last - first
    gaps = [
        b.datetime_start.timestamp() - a.datetime_complete.timestamp()
        for a, b in itertools.pairwise(trials)
    ]
    spans = [t.datetime_complete.timestamp() - t.datetime_start.timestamp() for t in trials]
    parts = {
        "driver: sample, build, count": [s.get("sample", 0) + s.get("count", 0) for s in seconds],
        "Ray: wait for a slot, dispatch": [s.get("wait", 0) for s in seconds],
        "worker: build, data, save": [s["total"] - s.get("train", 0) for s in seconds],
        "Ray: final report back": [s.get("return", 0) for s in seconds],
    }
    # The rest of ask -> tell: recording the trial and telling Optuna (SQLite writes).
    parts["driver: record, tell"] = [
        span - per_trial[i] - sum(values[i] for values in parts.values())
        for i, span in enumerate(spans)
    ]
    parts["between trials: tables, Tune loop"] = [*gaps, 0.0]
    states = sorted({t.user_attrs.get("state") for t in trials})
    print(
        f"{len(trials)} trials ({', '.join(states)}); training per trial (s): "
        + " ".join(f"{t:.1f}" for t in per_trial)
    )
    print(
        f"wall {wall:.1f} s: start-up {first - started:.1f} s (imports, checks, Ray, study), "
        f"trial loop {loop:.1f} s, end {started + wall - last:.1f} s (tables, plots, shutdown)"
    )
    print("framework time per trial, mean:        all trials   after the first")
    for name, values in parts.items():
        later = values[1:-1] if name.startswith("between") else values[1:]
        print(
            f"  {name:<36} {sum(values) / len(values):6.2f} s  "
            f"{sum(later) / max(1, len(later)):10.2f} s"
        )
    print(
        f"overhead, trial loop: {(loop - training) / loop:.1%} "
        f"({loop - training:.1f} s of {loop:.1f} s)"
    )
    print(
        f"overhead, whole command: {(wall - training) / wall:.1%} "
        f"({wall - training:.1f} s of {wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
