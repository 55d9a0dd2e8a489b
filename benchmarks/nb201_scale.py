"""How the driver scales with a tabular objective: `nas search nb201` against a plain Optuna
loop with the same sampler on the same lookup, at 100, 1,000 (and 10,000) trials.

Both sides score each trial from the bundled NAS-Bench-201 table (test accuracy on
CIFAR-10) and the closed-form FLOPs, with two objectives (accuracy max, FLOPs min) and
the sampler `nas search` builds (`make_sampler`, same seed). The plain loop runs twice:
on Optuna's in-memory storage, and on an SQLite file as `nas search` keeps its study.
Each measurement is its own process, so the peak memory (ru_maxrss) is that run's alone.
The time is the search call itself (imports excluded), divided by the trials.

    python benchmarks/nb201_scale.py            # 100 and 1,000 trials: about 5 minutes
    python benchmarks/nb201_scale.py --full     # adds 10,000: about an hour on 2 cores,
                                                # mostly TPE's own cost, which grows with N
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

OURS = """
import json, resource, sys, time
import optuna
import nas
import nas.engine.runner, nas.runs.tables  # imports outside the timing, as in the plain loop
from evaluators.tabular.nb201_table import load_table
load_table()
n, sampler, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
start = time.perf_counter()
run = nas.search("nb201", trials=n, sampler=sampler, seed=0, output=folder)
seconds = time.perf_counter() - start
study = optuna.load_study(study_name=run.outcome.study_name, storage=run.outcome.storage)
ends = sorted(t.datetime_complete for t in study.get_trials(deepcopy=False))
loop = (ends[-1] - ends[0]).total_seconds() * n / (n - 1)  # the trials alone, no start or end
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "loop": loop, "peak_mb": peak}))
"""

PLAIN = """
import json, resource, sys, time
import optuna
from evaluators.tabular.nb201_counts import EDGES, nb201_counts
from evaluators.tabular.nb201_table import cell_string, load_table
from nas.engine.samplers import make_sampler
optuna.logging.set_verbosity(optuna.logging.ERROR)
n, sampler, storage = int(sys.argv[1]), sys.argv[2], sys.argv[3] or None
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
table = load_table()
start = time.perf_counter()
study = optuna.create_study(
    storage=storage,
    directions=["maximize", "minimize"],
    sampler=make_sampler(sampler, seed=0, trials=n),
)
for _ in range(n):
    trial = study.ask()
    edges = {key: trial.suggest_categorical(key, OPS) for key in EDGES}
    row = table.index[cell_string(edges)]
    study.tell(trial, [table.accuracy["nb201_cifar10"][row], nb201_counts(edges)["flops"]])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""


def measure(code: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also 10,000 trials")
    parser.add_argument("--sampler", default="tpe")
    parser.add_argument("--sizes", help="comma-separated trial counts instead (e.g. 10000)")
    args = parser.parse_args()
    sizes = [100, 1000, *([10_000] if args.full else [])]
    if args.sizes:
        sizes = [int(size) for size in args.sizes.split(",")]
    print(f"sampler {args.sampler}, objectives nb201_cifar10:max, flops:min; per trial (peak MB)")
    print("nas search: the whole call (start-up, final tables and plots) / its trials in a row")
    print(f"{'trials':>7} {'nas search':>26} {'Optuna, memory':>18} {'Optuna, SQLite':>18} "
          f"{'loop/memory':>11} {'loop/SQLite':>11}")  # fmt: skip
    for n in sizes:
        with tempfile.TemporaryDirectory() as folder:
            ours = measure(OURS, str(n), args.sampler, str(Path(folder) / "run"))
            memory = measure(PLAIN, str(n), args.sampler, "")
            sqlite = measure(PLAIN, str(n), args.sampler, f"sqlite:///{folder}/plain.db")
        cells = [f"{r['seconds'] / n * 1e3:.1f} ms ({r['peak_mb']:.0f})" for r in (memory, sqlite)]
        whole, loop = ours["seconds"] / n * 1e3, ours["loop"] / n * 1e3
        ratios = [ours["loop"] / memory["seconds"], ours["loop"] / sqlite["seconds"]]
        mine = f"{whole:.1f} / {loop:.1f} ms ({ours['peak_mb']:.0f})"
        print(f"{n:>7} {mine:>26} {cells[0]:>18} {cells[1]:>18} "
              f"{ratios[0]:>11.2f} {ratios[1]:>11.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
