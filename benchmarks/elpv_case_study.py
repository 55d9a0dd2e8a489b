"""The elpv case study: conv, attention or hybrid for solar-cell defect inspection, end to end.

Runs, with the `nas` commands a user would type, four steps that each pick up what the
run folder already holds (the search resumes, verify trains only the missing seeds), so
a killed study goes on where it stopped and the table can be rebuilt from the folder
alone with --table-only:

1. ``nas search elpv --seed-archs benchmarks/elpv_baselines/*.yaml`` (``--resume`` on a
   folder that has one, which also extends it to ``--trials``): the four baselines
   (ResNet-18, MobileNetV3, ConvNeXt-Atto, ViT-Ti rescaled to the space) are the first
   trials, trained with the same recipe on the same split as every searched candidate;
2. ``nas verify RUN --seeds S --pick pareto <baselines>``: front and baselines retrained
   with S fresh seeds, 95% t-intervals of balanced accuracy;
3. ``nas analyze RUN --by family --budget flops<=B ...``: which family wins per budget,
   with the seed noise that verify measured;
4. ``nas report RUN``: RUN/report.html; and RUN/plots/front_baselines.png, the front
   with the baselines marked.

Then prints one table: every front member and baseline with its family, FLOPs, search
balanced accuracy and verified mean [95% interval], and for each baseline whether a
verified front member at equal or lower FLOPs beats it beyond the intervals.

    python benchmarks/elpv_case_study.py --output results/elpv_study            # full size
    python benchmarks/elpv_case_study.py --output RUN --trials 24 --epochs 4 --seeds 2
    python benchmarks/elpv_case_study.py --output RUN --table-only

Full size (40 trials of 6 epochs, 3 seeds) is the README's command: 20.8 min on 2 CPU
cores from a fresh clone (2026-12-05).
Needs the elpv extra: ``pip install 'nas-vision[elpv]'``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINES = sorted((ROOT / "benchmarks" / "elpv_baselines").glob("*.yaml"))
BUDGETS = ("flops<=2e7", "flops<=6e7")
METRIC = "balanced_accuracy"


def nas(*args: str) -> str:
    """Runs `nas ARGS` in a fresh process; its stdout (stderr streams to ours)."""
    command = [sys.executable, "-m", "nas", *args]
    print("$ nas " + " ".join(args), file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"nas {args[0]} failed with exit code {done.returncode}")
    return done.stdout


def run_study(run: Path, trials: int, epochs: int | None, seeds: int) -> dict[str, float]:
    """The four commands, each picking up what the folder holds; seconds per step."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    if not (run / "run.json").is_file():
        flags = ["--trials", str(trials), "--output", str(run), "--seed-archs"]
        flags += [str(p) for p in BASELINES]
        nas("search", "elpv", *flags, *(["--epochs", str(epochs)] if epochs else []))
    else:  # finishes a killed search, or extends it to `trials` (its recipe is kept)
        nas("search", "--resume", "--output", str(run), "--trials", str(trials))
    seconds["search"] = time.perf_counter() - start
    start = time.perf_counter()
    baselines = [str(n) for n in baseline_trials(run).values()]
    nas("verify", str(run), "--seeds", str(seeds), "--pick", "pareto", *baselines, "--json")
    seconds["verify"] = time.perf_counter() - start
    start = time.perf_counter()
    budgets = [flag for budget in BUDGETS for flag in ("--budget", budget)]
    (run / "analysis_by_family.json").write_text(
        nas("analyze", str(run), "--by", "family", *budgets, "--json")
    )
    seconds["analyze"] = time.perf_counter() - start
    start = time.perf_counter()
    nas("report", str(run))
    seconds["report"] = time.perf_counter() - start
    return seconds


def baseline_trials(run: Path) -> dict[str, int]:
    """Baseline name -> trial number, matched on the architecture summary."""
    import pandas as pd

    from search_space import load_architecture

    table = pd.read_csv(run / "trials.csv")
    found = {}
    for path in BASELINES:
        summary = load_architecture(path).summary()
        rows = table[table["summary"] == summary]
        if not rows.empty:
            found[path.stem] = int(rows["number"].iloc[0])
    return found


def verified(run: Path) -> dict[int, dict]:
    """Trial -> balanced accuracy over its verify seeds (mean, low, high, seeds), from
    verify.csv: every member ever verified (verify.json holds the last call's members)."""
    import pandas as pd

    from nas.runs.intervals import t_interval

    path = run / "verify.csv"
    if not path.is_file():
        return {}
    rows = pd.read_csv(path)
    if METRIC not in rows.columns:
        return {}
    found = {}
    for trial, seeds in rows.groupby("trial"):
        values = [float(v) for v in seeds[METRIC].dropna()]
        if values:
            interval = t_interval(values, (0.0, 1.0)).to_dict()
            found[int(trial)] = {**interval, "seeds": len(values)}
    return found


def table_rows(run: Path) -> list[dict]:
    import pandas as pd

    from nas.runs.analysis.features import family
    from search_space import load_architecture

    trials = pd.read_csv(run / "trials.csv")
    baselines = {n: name for name, n in baseline_trials(run).items()}
    intervals = verified(run)
    shown = (trials["pareto"] == True) | trials["number"].isin([*baselines, *intervals])  # noqa: E712
    chosen = trials[shown]
    rows = []
    for _, row in chosen.sort_values("flops").iterrows():
        number = int(row["number"])
        arch = load_architecture(_arch_file(run, number))
        rows.append(
            {
                "trial": number,
                # searched: verified while on the front, dominated since by a later trial
                "role": baselines.get(number, "front" if row["pareto"] else "searched"),
                "family": family(arch.to_dict()),
                "flops": float(row["flops"]),
                "search": float(row[METRIC]),
                "accuracy": float(row["accuracy"]),
                "verified": intervals.get(number),
                "pareto": bool(row["pareto"]),
            }
        )
    return rows


def _arch_file(run: Path, number: int) -> Path:
    return run / "trials" / str(number) / "arch.yaml"


def dominance(rows: list[dict]) -> list[str]:
    """Per baseline: the searched models (front members, and earlier members since dominated)
    at equal or lower FLOPs whose verified interval lies above the baseline's (beyond
    noise), or whose mean alone is higher (within noise)."""
    lines = []
    front = [r for r in rows if r["role"] in ("front", "searched") and r["verified"]]
    for base in (r for r in rows if r["role"] != "front"):
        if not base["verified"]:
            lines.append(f"{base['role']}: not verified")
            continue
        cheaper = [r for r in front if r["flops"] <= base["flops"]]
        beyond = [r for r in cheaper if _low(r) > _high(base)]
        above = [r for r in cheaper if r["verified"]["mean"] > base["verified"]["mean"]]
        if beyond:
            verdict = "dominated beyond the intervals by #" + ", #".join(
                str(r["trial"]) for r in beyond
            )
        elif above:
            verdict = "higher mean at <= its FLOPs for #" + ", #".join(
                str(r["trial"]) for r in above
            )
            verdict += ", but the intervals overlap: not decided"
        else:
            verdict = "not dominated: no verified searched model at <= its FLOPs scores higher"
        lines.append(
            f"{base['role']} (#{base['trial']}, {base['flops'] / 1e6:.1f} MFLOPs): {verdict}"
        )
    return lines


def _low(row: dict) -> float:
    low = row["verified"].get("low")
    return row["verified"]["mean"] if low is None else low


def _high(row: dict) -> float:
    high = row["verified"].get("high")
    return row["verified"]["mean"] if high is None else high


def print_table(run: Path) -> None:
    rows = table_rows(run)
    print(f"{'trial':>5}  {'role':<14}{'family':<10}{'MFLOPs':>7}  {'search':>7}  verified")
    for r in rows:
        interval = "-"
        if r["verified"]:
            v = r["verified"]
            interval = f"{v['mean']:.3f}"
            if v.get("low") is not None:
                interval += f" [{v['low']:.3f}, {v['high']:.3f}]"
            interval += f" ({v['seeds']} seeds)"
        print(
            f"{r['trial']:>5}  {r['role']:<14}{r['family']:<10}{r['flops'] / 1e6:>7.1f}  "
            f"{r['search']:>7.3f}  {interval}"
        )
    for line in dominance(rows):
        print(line)
    _winner_lines(run)
    plot_front(run, rows)


def _winner_lines(run: Path) -> None:
    path = run / "analysis_by_family.json"
    if not path.is_file():
        return
    document = json.loads(path.read_text())
    for grouping in document.get("groupings") or []:
        for winner in grouping.get("winners", []):
            print(f"by {grouping['key']}: {winner['sentence']}")


def plot_front(run: Path, rows: list[dict]) -> Path:
    """RUN/plots/front_baselines.png: every trial, the front, the baselines marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    trials = pd.read_csv(run / "trials.csv")
    done = trials[trials["state"] == "complete"]
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    axes.scatter(done["flops"] / 1e6, done[METRIC], s=14, c="0.7", label="trials")
    front = done[done["pareto"] == True].sort_values("flops")  # noqa: E712
    axes.step(front["flops"] / 1e6, front[METRIC], where="post", c="C0", label="front")
    for r in rows:
        color = "C3" if r["role"] not in ("front", "searched") else "C0"
        if color == "C3":
            axes.scatter([r["flops"] / 1e6], [r["search"]], marker="s", s=40, c=color)
            axes.annotate(r["role"], (r["flops"] / 1e6, r["search"]), fontsize=8)
        if r["verified"] and r["verified"].get("low") is not None:
            v = r["verified"]
            below, above = v["mean"] - v["low"], v["high"] - v["mean"]
            x, y = [r["flops"] / 1e6 * 1.01], [v["mean"]]  # beside the search's point
            axes.errorbar(x, y, yerr=[[below], [above]], fmt="_", c=color, alpha=0.5)
    axes.set_xlabel("MFLOPs (one multiply-add = 1 FLOP)")
    axes.set_ylabel("balanced accuracy (validation)")
    axes.set_title("elpv, defective or not: search scores; bars: verified mean, 95% interval")
    axes.legend(loc="lower right")
    path = run / "plots" / "front_baselines.png"
    path.parent.mkdir(exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"picture: {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "elpv_study")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, help="default: the elpv space's (6)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--table-only", action="store_true", help="rebuild the table only")
    args = parser.parse_args()
    run = args.output.absolute()
    if not args.table_only:
        start = time.perf_counter()
        seconds = run_study(run, args.trials, args.epochs, args.seeds)
        steps = ", ".join(f"{k} {v / 60:.1f} min" for k, v in seconds.items())
        print(f"study: {(time.perf_counter() - start) / 60:.1f} min ({steps})")
    print_table(run)


if __name__ == "__main__":
    main()
