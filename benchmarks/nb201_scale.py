"""How the driver scales with a tabular objective: `nas search nb201` against a plain Optuna
loop with the same sampler on the same lookup, at 100, 1,000 (and 10,000) trials.

Both sides score each trial from the bundled NAS-Bench-201 table (test accuracy on
CIFAR-10) and the closed-form FLOPs, with two objectives (accuracy max, FLOPs min) and
the sampler `nas search` builds (`make_sampler`, same seed). The plain loop runs twice:
on Optuna's in-memory storage, and on an SQLite file as `nas search` keeps its study.
Each measurement is its own process, so the peak memory (ru_maxrss) is that run's alone.
The time is the search call itself (imports excluded), divided by the trials.

    python benchmarks/nb201_scale.py            # 100 and 1,000 trials: about 10 minutes
    python benchmarks/nb201_scale.py --full     # adds 10,000: about 1.5 hours on 2 cores,
                                                # mostly TPE's own cost, which grows with N
    python benchmarks/nb201_scale.py --tail-of RUN  # a finished run's last trials against
                                                # the plain loop's cost at the same N
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
    flops = nb201_counts(edges, convention="nb201")["flops"]
    study.tell(trial, [table.accuracy["nb201_cifar10"][row], flops])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""


def measure(code: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def tail_comparison(run_dir: str, sampler: str, asks: int = 50) -> None:
    """At the end of a finished `nas search nb201` run: its last trials' spacing against
    the plain loop's cost per trial at the same N (the same sampler on a copy of the
    run's trials in memory, `asks` more asks and tells), when a full plain run to that N
    does not fit in the time at hand."""
    import time

    import optuna

    from evaluators.tabular.nb201_counts import EDGES, nb201_counts
    from evaluators.tabular.nb201_table import cell_string, load_table
    from nas.engine.samplers import make_sampler

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url = f"sqlite:///{Path(run_dir).resolve() / 'study.db'}"
    study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    ends = [t.datetime_complete for t in trials[-asks - 1 :]]
    ours = (ends[-1] - ends[0]).total_seconds() / asks
    memory = optuna.create_study(
        directions=["maximize", "minimize"],
        sampler=make_sampler(sampler, seed=0, trials=len(trials)),
    )
    memory.add_trials(trials)
    table, ops = (
        load_table(),
        ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"],
    )
    start = time.perf_counter()
    for _ in range(asks):
        trial = memory.ask()
        edges = {key: trial.suggest_categorical(f"tied.{key}", ops) for key in EDGES}
        row = table.index[cell_string(edges)]
        memory.tell(
            trial,
            [
                table.accuracy["nb201_cifar10"][row],
                nb201_counts(edges, convention="nb201")["flops"],
            ],
        )
    plain = (time.perf_counter() - start) / asks
    print(f"at N = {len(trials):,}: nas search {ours * 1e3:.0f} ms per trial (its last {asks}), "
          f"plain Optuna in memory {plain * 1e3:.0f} ms ({asks} asks on a copy): "
          f"ratio {ours / plain:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also 10,000 trials")
    parser.add_argument("--sampler", default="tpe")
    parser.add_argument("--sizes", help="comma-separated trial counts instead (e.g. 10000)")
    parser.add_argument("--tail-of", help="a finished nb201 run: compare its last trials only")
    args = parser.parse_args()
    if args.tail_of:
        tail_comparison(args.tail_of, args.sampler)
        return
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
