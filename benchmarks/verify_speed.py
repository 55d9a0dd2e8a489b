"""How long `nas verify` takes on a front of 3 models with 3 seeds (target: under 4 min).

Needs a run folder of the demo space (``--run RUN``); without one it first runs the
Quick start's search (``nas search demo``, 12 trials, a few minutes) into a temporary
folder. The 3 members are the front's smallest, middle and largest by FLOPs.

Timed in the same run, each as a fresh process on its own copy of the run folder:

  nas verify   `nas verify COPY --seeds 3 --pick A B C`: every seed a Ray task, as many
               at once as there are CPUs (one torch thread each)
  baseline     the same 9 trainings one after another in one process with torch's
               default threads (how verify ran before it used Ray)

and prints both wall times, their ratio, and each member's mean accuracy under both
(the seeds are the same, so the means differ only by thread-count rounding).

    python benchmarks/verify_speed.py [--run RUN] [--seeds 3] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 240.0

BASELINE = """
import json, sys
from nas.engine.verify import _jobs, train_member
from nas.runs.folder import open_run
run = open_run(sys.argv[1])
study = run.load_study()
jobs = _jobs(run.path, study, run.config(study), [int(n) for n in sys.argv[3:]],
             int(sys.argv[2]), None)
for job in jobs:
    print(json.dumps(train_member(job)), flush=True)
"""


def members(run: Path) -> list[int]:
    """The front's smallest, middle and largest member by FLOPs."""
    front = pd.read_csv(run / "pareto.csv").sort_values("flops")
    numbers = [int(n) for n in front["number"]]
    return sorted({numbers[0], numbers[len(numbers) // 2], numbers[-1]})


def timed(command: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.monotonic() - started, done.stdout


def ours(run: Path, seeds: int, picks: list[int], work: Path) -> tuple[float, dict[int, float]]:
    copy = work / "ours"
    shutil.copytree(run, copy)
    for name in ("verify.csv", "verify.json"):
        (copy / name).unlink(missing_ok=True)
    command = [sys.executable, "-m", "nas", "verify", str(copy), "--seeds", str(seeds)]
    wall, out = timed([*command, "--pick", *map(str, picks), "--json"])
    document = json.loads(out)
    means = {m["trial"]: m["objectives"]["accuracy"]["mean"] for m in document["members"]}
    return wall, means


def baseline(run: Path, seeds: int, picks: list[int]) -> tuple[float, dict[int, float]]:
    command = [sys.executable, "-c", BASELINE, str(run), str(seeds), *map(str, picks)]
    wall, out = timed(command)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    means = {
        n: statistics.mean(r["accuracy"] for r in rows if r["trial"] == n)
        for n in {r["trial"] for r in rows}
    }
    return wall, means


def demo_run(work: Path) -> Path:
    run = work / "demo"
    print("no --run: running the Quick start's search first ...", flush=True)
    timed([sys.executable, "-m", "nas", "search", "demo", "--output", str(run)])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a demo-space run folder (default: search)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nas-verify-bench-") as folder:
        work = Path(folder)
        run = args.run.resolve() if args.run else demo_run(work)
        picks = members(run)
        print(f"members {picks}, {args.seeds} seeds each", flush=True)
        wall, means = ours(run, args.seeds, picks, work)
        verdict = "meets" if wall < TARGET_S else "misses"
        print(f"nas verify: {wall:6.1f} s  (target < {TARGET_S:.0f} s: {verdict})", flush=True)
        if args.skip_baseline:
            return
        base_wall, base_means = baseline(run, args.seeds, picks)
        print(f"baseline:   {base_wall:6.1f} s  (one process, one seed after another)")
        print(f"ratio nas verify / baseline: {wall / base_wall:.2f}")
        for number in picks:
            print(
                f"  #{number:<4} mean accuracy  nas verify {means[number]:.4f}  "
                f"baseline {base_means[number]:.4f}"
            )


if __name__ == "__main__":
    main()
