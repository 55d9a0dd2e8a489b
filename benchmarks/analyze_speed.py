"""How fast the design-space analysis answers on a run of 1,000 trials in 3 groups
(target: under 3 s), and how large its report.html is (target: under 10 MB).

A synthetic trials table shaped like trials.csv (results/README.md): conv, hybrid and
attention architectures with FLOPs spread over two decades and accuracies that depend on
the family and the FLOPs, plus failed and infeasible rows. Timed in this process:

  baseline  plain pandas + numpy: parse arch_yaml, group by family, and per group and
            budget the same statistics (EDF, best, 2,000-resample bootstrap of the best,
            bootstrap of the winner's difference)
  core      analyze_table without importances (what the statistics cost through our code)
  analyze   analyze_table with PED-ANOVA importances (what `nas analyze` computes)
  fanova    the importances with fANOVA instead (--fanova; slow: a random forest per key)
  report    build_report on the analysis (the page, plotly.js inlined)

and as fresh processes, imports included (what a user waits for), on the same table
written as a run folder (trials.csv + config.yaml, as results/reference/):

  baseline process   python + pandas/numpy/yaml running the baseline above
  nas analyze        `nas analyze RUN --by family --budget ... --json` (PED-ANOVA, pictures
                     and report.html written), and again with --no-importance. It
                     computes the importances in a forked process while it draws
                     (nas/runs/analysis/background.py): a second idle core hides them

In-process figures are the best of --repeat runs, fresh-process ones their median.

    python benchmarks/analyze_speed.py [--trials 1000] [--repeat 5] [--fanova]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

RESAMPLES = 2000  # as nas.runs.analysis.bootstrap (imported there by main, not here)

FAMILIES = {
    "conv": ("resnet", "mbconv"),
    "hybrid": ("convnext", "attention"),
    "attention": ("attention", "attention"),
}
BUDGETS = ["flops<=3e6", "flops<=1e7"]


def _arch(first: str, second: str, rng: np.random.Generator) -> dict:
    def stage(block: str, width: int, stride: int) -> dict:
        extra = (
            {"heads": int(rng.choice([2, 4]))}
            if block == "attention"
            else {"kernel": int(rng.choice([3, 5, 7]))}
        )
        return {
            "block": block,
            "depth": int(rng.integers(1, 4)),
            "width": width,
            "stride": stride,
            **extra,
        }

    return {
        "name": "synthetic",
        "input": {"channels": 1, "resolution": 28, "classes": 10},
        "stem": {
            "type": str(rng.choice(["conv", "patchify"])),
            "width": int(rng.choice([16, 24, 32])),
            "stride": 2,
        },
        "stages": [
            stage(first, int(rng.choice([16, 32])), 1),
            stage(second, int(rng.choice([32, 64])), 2),
        ],
        "head": {"type": "classifier", "pool": "avg"},
    }


def synthetic_table(trials: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names, rows = list(FAMILIES), []
    for number in range(trials):
        family = names[number % 3]
        arch = _arch(*FAMILIES[family], rng)
        flops = float(10 ** rng.uniform(6, 8))
        gain = {"conv": 0.0, "hybrid": 0.02, "attention": -0.03}[family]
        accuracy = float(
            np.clip(0.5 + 0.1 * np.log10(flops / 1e6) + gain + rng.normal(0, 0.05), 0, 1)
        )
        state = rng.choice(["complete", "failed", "infeasible"], p=[0.9, 0.05, 0.05])
        ok = state == "complete"
        rows.append(
            {
                "number": number,
                "state": state,
                "pareto": False,
                "accuracy": accuracy if ok else np.nan,
                "flops": flops,
                "params": flops / 50,
                "summary": " | ".join([family, *(s["block"] for s in arch["stages"])]),
                "hypervolume": 0.0,
                "error": None if ok else f"{state}: synthetic reason {number % 4}",
                "arch_yaml": yaml.safe_dump(arch, sort_keys=False),
            }
        )
    return pd.DataFrame(rows)


def baseline(table: pd.DataFrame, seed: int = 0) -> dict:
    """The same statistics, written directly with pandas and numpy."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rows = table[(table["state"] == "complete") & table["accuracy"].notna()].copy()
    rows["family"] = [_family(yaml.load(doc, Loader=loader)) for doc in rows["arch_yaml"]]
    rng, found = np.random.default_rng(seed), {}
    for budget in [None, *BUDGETS]:
        kept = rows if budget is None else rows[rows["flops"] <= float(budget.split("<=")[1])]
        bests = {}
        for family, group in kept.groupby("family"):
            values = group["accuracy"].to_numpy()
            np.sort(1 - values)  # the EDF's steps
            draws = values[rng.integers(0, values.size, size=(RESAMPLES, values.size))].max(axis=1)
            bests[family] = (values.max(), np.percentile(draws, [2.5, 97.5]), draws)
        ranked = sorted(bests, key=lambda k: -bests[k][0])
        found[budget] = np.percentile(bests[ranked[0]][2] - bests[ranked[1]][2], [2.5, 97.5])
    return found


def _family(arch: dict) -> str:
    blocks = [s["block"] == "attention" for s in arch["stages"]]
    return "attention" if all(blocks) else "hybrid" if any(blocks) else "conv"


def _best_of(repeat: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def _process_seconds(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median wall time of each command as a fresh process (its imports included). The
    machine is shared: the commands take turns, round after round, so that a burst of
    load falls on all of them alike, and the median of the rounds is kept."""
    root = Path(__file__).resolve().parent.parent
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=root, env=env)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(found) for name, found in times.items()}


def fresh_processes(table: pd.DataFrame, repeat: int) -> dict[str, float]:
    """The run written as a folder, analysed by fresh processes: ours and the baseline."""
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "synthetic"
        run.mkdir()
        table.to_csv(run / "trials.csv", index=False)
        (run / "config.yaml").write_text("search: {objectives: {accuracy: max, flops: min}}\n")
        analyze = [sys.executable, "-m", "nas", "analyze", str(run), "--by", "family", "--json"]
        analyze += [f"--budget={b}" for b in BUDGETS]
        baseline = [sys.executable, __file__, "--baseline-process", str(run / "trials.csv")]
        commands = {
            "baseline": baseline,
            "analyze": analyze,
            "no_importance": [*analyze, "--no-importance"],
        }
        return _process_seconds(commands, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fanova", action="store_true", help="also time fANOVA (about a minute)")
    parser.add_argument("--baseline-process", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_process:  # the fresh-process baseline: pandas, numpy and yaml only
        baseline(pd.read_csv(args.baseline_process))
        return
    from nas.runs.analysis import features
    from nas.runs.analysis.analyze import analyze_table
    from nas.runs.analysis.bootstrap import parse_budget
    from nas.runs.analysis.importance import importances
    from nas.runs.analysis.objectives import DEFAULT_GOALS, eligible
    from nas.runs.html.report import build_report, write_report

    table = synthetic_table(args.trials)
    budgets = [parse_budget(b) for b in BUDGETS]
    keys = ["family", "stages[0].block", "stages[1].kernel"]
    base, _ = _best_of(args.repeat, lambda: baseline(table))

    def analyze(keys: list[str], evaluator: str | None) -> dict:
        features._parse.cache_clear()  # parse every document again, as the baseline does
        return analyze_table(table, DEFAULT_GOALS, keys, budgets, evaluator=evaluator)

    core, _ = _best_of(args.repeat, lambda: analyze(["family"], None))
    full, document = _best_of(args.repeat, lambda: analyze(keys, "ped-anova"))
    rows = eligible(table, DEFAULT_GOALS)
    fanova = (
        _best_of(1, lambda: importances(rows, DEFAULT_GOALS, "fanova"))[0] if args.fanova else None
    )
    report, page = _best_of(args.repeat, lambda: build_report(table, "synthetic", "", document))
    with tempfile.TemporaryDirectory() as folder:
        size = write_report(Path(folder) / "report.html", page).stat().st_size
    verdict = "met" if full < 3 else "MISSED"
    print(f"{args.trials} trials, {int((table['state'] == 'complete').sum())} complete, 3 families")
    print(f"baseline (pandas+numpy, by family): {base:.3f} s")
    print(f"core (analyze_table, by family):    {core:.3f} s, {core / base:.2f}x the baseline")
    print(f"analyze (3 keys + PED-ANOVA):       {full:.3f} s, target < 3 s: {verdict}")
    if fanova is not None:
        print(f"importances with fANOVA instead:    {fanova:.3f} s")
    print(f"report.html build:                  {report:.3f} s, {size / 1e6:.2f} MB (< 10 MB)")
    fresh = fresh_processes(table, args.repeat)
    print(
        f"fresh process, baseline:            {fresh['baseline']:.3f} s (median of {args.repeat})"
    )
    ratio = fresh["analyze"] / fresh["baseline"]
    verdict = "met" if fresh["analyze"] < 3 else "MISSED"
    print(
        f"fresh process, nas analyze:         {fresh['analyze']:.3f} s, {ratio:.2f}x the "
        f"baseline, target < 3 s: {verdict}"
    )
    print(f"fresh process, --no-importance:     {fresh['no_importance']:.3f} s")
    for grouping in document["groupings"][:1]:
        for line in grouping["winners"]:
            print("  " + line["sentence"])


if __name__ == "__main__":
    main()
