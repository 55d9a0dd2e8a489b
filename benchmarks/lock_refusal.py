"""How fast a second `nas search` on a run folder another search holds is refused
(target: under 3 s), and how fast a search stopped by SIGTERM records and exits
(target: under 10 s), each as a fresh process, as a user or a scheduler sees it.

  baseline   python -c "import nas.engine.runner"   (the imports a search needs: torch,
             Ray, Optuna; what a refusal waited for when the lock came after them)
  refusal    nas search demo --output HELD   (HELD locked by another process)
  sigterm    nas search (real training) sent SIGTERM once its first trial runs:
             seconds from the signal to the process's exit, and from its last line
             printed to its exit

    python benchmarks/lock_refusal.py [--repeat 5] [--no-sigterm]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOLD = (
    "import sys, time; from pathlib import Path; from nas.runs.lock import run_lock\n"
    "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(3600)\n"
)
SPACE = """name: tiny
input: {channels: 1, resolution: 28, classes: 10}
stem: {type: conv, width: [8, 32], stride: 2}
stages:
  - {block: [resnet, mbconv], depth: 1, width: [8, 16], stride: 2, kernel: 3, expansion: 2}
head: {pool: avg}
data: {name: mnist5k, limit: 3000}
train: {epochs: 20, batch_size: 64}
"""


def _seconds(command: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def refusal(repeat: int, folder: Path) -> None:
    held = folder / "held"
    held.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(held)], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
    try:
        base = _seconds([sys.executable, "-c", "import nas.engine.runner"], repeat)
        nas = [sys.executable, "-m", "nas", "search", "demo", "--output", str(held)]
        ours = _seconds(nas, repeat)
    finally:
        holder.kill()
        holder.wait()
    b, o = statistics.median(base), statistics.median(ours)
    print(f"baseline (heavy imports)  median {b:.2f} s  {_list(base)}")
    print(f"refusal of a held folder  median {o:.2f} s  {_list(ours)}  (target < 3 s)")
    print(f"ratio refusal / baseline  {o / b:.2f}")


def sigterm(folder: Path) -> None:
    import signal

    space = folder / "space.yaml"
    space.write_text(SPACE)
    run = folder / "run"
    command = [sys.executable, "-m", "nas", "search", str(space), "--trials", "4"]
    command += ["--output", str(run), "--no-plots", "--max-concurrent", "2"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    last_line = time.perf_counter()
    for line in process.stderr:
        last_line = time.perf_counter()
        if "running" in line and "0 running" not in line:
            break
    time.sleep(2.0)  # the trials are training
    sent = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    for _line in process.stderr:
        last_line = time.perf_counter()
    process.wait()
    ended = time.perf_counter()
    print(
        f"SIGTERM to exit            {ended - sent:.2f} s (target < 10 s), exit code "
        f"{process.returncode}; last line to exit {ended - max(last_line, sent):.2f} s "
        "(target < 2 s)"
    )


def _list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-sigterm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        refusal(args.repeat, Path(scratch))
        if not args.no_sigterm:
            sigterm(Path(scratch))


if __name__ == "__main__":
    main()
