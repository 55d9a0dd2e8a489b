"""How fast `nas report` answers on a run of 1,000 trials (target: under 2 s).

Builds a synthetic run folder: an Optuna SQLite study whose trials carry what a real
search records (metrics, the architecture of a sampled demo model, its summary, timings,
per-epoch history), with complete, failed, infeasible and stopped trials mixed in. Then
times, each as a fresh process (imports included, as a user would see it):

  baseline  python -c "optuna.load_study(...).trials_dataframe()"
  report    nas report RUN --json --no-plots   (what answering costs)
  redraw    nas report RUN --json --redraw     (also draws pareto.png/.html, hypervolume.png;
            a plain `nas report` does this only when the plots are older than the study)

    python benchmarks/report_speed.py [--trials 1000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import yaml

from nas.runs import format as rf
from search_space import load_space, sample_architectures

STATES = [rf.COMPLETE] * 85 + [rf.FAILED] * 5 + [rf.INFEASIBLE] * 5 + [rf.STOPPED_EARLY] * 5


def build_run(folder: Path, trials: int, seed: int = 0) -> Path:
    """A finished run folder with `trials` synthetic trials; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{folder / rf.STUDY_FILE}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="bench", storage=storage, directions=["maximize", "minimize"]
    )
    study.set_user_attr(
        rf.STUDY_OBJECTIVES,
        [{"name": "accuracy", "direction": "maximize"}, {"name": "flops", "direction": "minimize"}],
    )
    study.set_user_attr(rf.STUDY_REFERENCE_POINT, [0.0, 2.0e7])
    study.set_user_attr(rf.STUDY_CONFIG, {"space": "demo", "search": {"trials": trials}})
    rng = random.Random(seed)
    archs = sample_architectures(load_space("demo"), trials, seed)
    study.add_trials([_trial(i, arch, rng) for i, arch in enumerate(archs)])
    (folder / rf.RUN_FILE).write_text(
        json.dumps(
            {
                rf.RUN_STATUS: rf.FINISHED,
                rf.RUN_PID: 0,
                rf.RUN_HOST: "bench",
                rf.RUN_STORAGE: storage,
                rf.RUN_STUDY_NAME: "bench",
            }
        )
    )
    (folder / rf.CONFIG_FILE).write_text(yaml.safe_dump({"space": "demo"}))
    return folder


def _trial(number: int, arch, rng: random.Random) -> optuna.trial.FrozenTrial:
    state = rng.choice(STATES)
    flops = 10 ** rng.uniform(5.5, 7.3)
    accuracy = min(0.995, 0.6 + 0.06 * (flops / 1e5) ** 0.35 * rng.uniform(0.8, 1.0))
    metrics = {
        "accuracy": accuracy,
        "flops": flops,
        "params": flops / 40,
        "loss": 1 - accuracy,
        "latency_ms": flops / 2e6,
    }
    attrs = {
        rf.ATTR_STATE: state,
        rf.ATTR_ARCH: arch.to_dict(run_config=False),
        rf.ATTR_SUMMARY: arch.summary(),
        rf.ATTR_EPOCHS: 3,
        rf.ATTR_SECONDS: {"build": 0.01, "count": 0.05, "train": 20.0, "total": 20.1},
        rf.ATTR_HISTORY: [{"epoch": e, "accuracy": accuracy, "loss": 0.3} for e in (1, 2, 3)],
    }
    if state == rf.FAILED:
        attrs[rf.ATTR_ERROR] = "RuntimeError: CUDA out of memory"
    if state != rf.FAILED:
        attrs[rf.ATTR_METRICS] = metrics
    if state == rf.INFEASIBLE:
        attrs[rf.ATTR_ERROR] = f"flops {flops:.3g} above the constraint 2e7"
    optuna_state = {
        rf.COMPLETE: "COMPLETE",
        rf.FAILED: "FAIL",
        rf.INFEASIBLE: "FAIL",
        rf.STOPPED_EARLY: "PRUNED",
    }[state]
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState[optuna_state],
        values=[accuracy, flops] if state == rf.COMPLETE else None,
        user_attrs=attrs,
        params={},
        distributions={},
    )


def _time(command: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--keep", help="build the run in DIR/bench-run and keep it, or reuse it (default: temp)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch) / "bench-run"
        if (folder / rf.STUDY_FILE).exists():  # --keep DIR from an earlier run: reuse it
            print(f"reusing {folder}")
        else:
            start = time.perf_counter()
            build_run(folder, args.trials)
            print(f"built {args.trials} trials in {time.perf_counter() - start:.1f} s: {folder}")
        storage = f"sqlite:///{folder / rf.STUDY_FILE}"
        baseline = _time(
            [
                sys.executable,
                "-c",
                "import optuna; optuna.load_study(study_name="
                f"'bench', storage='{storage}').trials_dataframe()",
            ],
            args.repeat,
        )
        nas = [sys.executable, "-m", "nas", "report", str(folder), "--json"]
        report = _time([*nas, "--no-plots"], args.repeat)
        redraw = _time([*nas, "--redraw"], args.repeat)
        imports = _time([sys.executable, "-c", "import nas.cli, search_space"], args.repeat)
        rows = [
            ("baseline: optuna load_study + trials_dataframe", baseline),
            ("nas report --json (plots up to date)", report),
            ("nas report --json --redraw (PNG + HTML drawn)", redraw),
            ("  of which starting python + importing the CLI", imports),
        ]
        for label, seconds in rows:
            print(f"{label:<50} {seconds:6.2f} s  ({seconds / baseline:.2f}x baseline)")
        print(f"target: nas report under 2 s -> {'met' if report < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
