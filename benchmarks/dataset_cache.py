"""Dataset cache at scale: 2 concurrent trials on a large image folder vs torchvision's loader.

Makes (or reuses) a folder of synthetic 224x224 JPEGs (``--images``, default 100,000,
over 100 classes, plus ``--val`` validation images), empties the dataset cache, then:

1. ours: two trial processes start together, each ``load_dataset`` (imagefolder, read
   from disk per batch) and trains a tiny convnet for ``--steps`` steps from
   ``dataset.train_batches`` with ``--workers`` read-ahead threads, with the project's
   batch augmentation and normalization. One decodes the folder into the cache, the
   other waits for it and reuses it: each reports whether it decoded and how long
   loading took.
2. baseline: two processes train the same model for the same steps from torchvision's
   ``ImageFolder`` + ``DataLoader`` (``--workers`` worker processes, shuffled, PIL
   decoding of the same files, which already have the training resolution), with
   the same augmentation and normalization.

It prints, per side: training images/s of both trials together (after 5 warm-up
steps), the peak resident memory of each trial process (its own, and of the
processes it started), the peak of the whole machine's used memory (MemTotal -
MemAvailable, so the page cache holding the dataset file is not counted; other
programs on the machine are), the ratio ours / baseline, and the number of decodes.

    python benchmarks/dataset_cache.py [--images 100000] [--folder /tmp/nas-bench/folder]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHO = (0, -1)  # resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN
WARMUP = 5


def tiny_model(classes: int):
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 16, 4, stride=4), nn.ReLU(),  # 224 -> 56
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # 56 -> 28
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, classes),
    )  # fmt: skip


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (DataLoader workers)."""
    import resource

    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def train_steps(batches, steps: int, classes: int, mean, std) -> float:
    """Trains for `steps` batches; returns images/s after the warm-up steps."""
    import torch
    import torch.nn.functional as F

    from evaluators.datasets.augment import augment, normalize

    model = tiny_model(classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    images_seen, start = 0, time.perf_counter()
    for step, (images, labels) in enumerate(batches):
        if step == WARMUP:
            images_seen, start = 0, time.perf_counter()
        inputs = normalize(augment(images, "natural", generator), mean, std)
        loss = F.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        images_seen += len(labels)
        if step + 1 == steps:
            break
    return images_seen / (time.perf_counter() - start)


def run_ours(args: argparse.Namespace) -> dict:
    import torch

    from evaluators.config import DataConfig
    from evaluators.datasets import load_dataset

    start = time.perf_counter()
    config = DataConfig(name="imagefolder", root=str(args.folder), in_memory=False,
                        num_workers=args.workers)  # fmt: skip
    dataset = load_dataset(config)
    loaded, cpu = time.perf_counter() - start, cpu_seconds()
    generator = torch.Generator().manual_seed(1)
    batches = dataset.train_batches(args.batch, generator)
    rate = train_steps(batches, args.steps, dataset.classes, dataset.mean, dataset.std)
    batches.close()  # stops the read-ahead threads
    return {"decoded": dataset.decoded, "load_seconds": loaded, "images_per_second": rate,
            "images_per_cpu_second": args.steps * args.batch / (cpu_seconds() - cpu)}  # fmt: skip


def run_baseline(args: argparse.Namespace) -> dict:
    import torch
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    start = time.perf_counter()
    folder = datasets.ImageFolder(str(args.folder / "train"), transform=transforms.PILToTensor())
    loader = DataLoader(folder, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                        drop_last=True, generator=torch.Generator().manual_seed(1))  # fmt: skip
    loaded, cpu = time.perf_counter() - start, cpu_seconds()
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)  # constants: the baseline measures none
    batches = iter(loader)
    rate = train_steps(batches, args.steps, len(folder.classes), mean, std)
    batches._shutdown_workers()  # joined, so their CPU time is counted as children's
    return {"decoded": False, "load_seconds": loaded, "images_per_second": rate,
            "images_per_cpu_second": args.steps * args.batch / (cpu_seconds() - cpu)}  # fmt: skip


def trial(args: argparse.Namespace) -> None:
    """One trial process: prints its result and peak memory as JSON."""
    import resource

    import torch

    torch.set_num_threads(1)  # two trials share the machine's cores
    result = run_ours(args) if args.role == "ours" else run_baseline(args)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({**result, "peak_rss_mb": own, "children_peak_rss_mb": children}))


def used_memory_mb() -> float:
    fields = dict(line.split(":") for line in Path("/proc/meminfo").read_text().splitlines())
    kb = lambda name: int(fields[name].split()[0])  # noqa: E731
    return (kb("MemTotal") - kb("MemAvailable")) / 1024


def two_trials(args: argparse.Namespace, role: str) -> tuple[list[dict], float, float]:
    """Runs two trial processes together; their results, and machine memory before/peak."""
    command = [sys.executable, __file__, "--trial", role, *forwarded(args)]
    env = {**os.environ, "NAS_CACHE": str(args.cache), "PYTHONPATH": str(REPO)}
    before, peak, done = used_memory_mb(), [0.0], threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], used_memory_mb())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [run.communicate()[0] for run in runs]
    done.set()
    watcher.join()
    if any(run.returncode for run in runs):
        raise SystemExit(f"a {role} trial failed")
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs], before, peak[0]


def forwarded(args: argparse.Namespace) -> list[str]:
    return [f"--folder={args.folder}", f"--steps={args.steps}", f"--batch={args.batch}",
            f"--workers={args.workers}"]  # fmt: skip


def report(role: str, results: list[dict], before: float, peak: float) -> tuple[float, float]:
    """Prints one side's round; returns (images/s, images per CPU second) of both trials."""
    total = sum(r["images_per_second"] for r in results)
    per_cpu = sum(r["images_per_cpu_second"] for r in results) / len(results)
    print(f"{role}: {total:,.0f} images/s (two trials together), {per_cpu:,.0f} images per "
          f"CPU second; machine used memory {before / 1024:.1f} GB before, peak "
          f"{peak / 1024:.1f} GB")  # fmt: skip
    for name, r in zip("AB", results):
        print(f"  trial {name}: {r['images_per_second']:,.0f} images/s, peak RSS "
              f"{r['peak_rss_mb']:,.0f} MB (its children: {r['children_peak_rss_mb']:,.0f} MB), "
              f"load {r['load_seconds']:.1f} s, decoded: {r['decoded']}")  # fmt: skip
    return total, per_cpu


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="training images")
    parser.add_argument("--val", type=int, default=2_000, help="validation images")
    parser.add_argument("--folder", type=Path, default=None, help="default /tmp/nas-bench/...")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/nas-bench/cache"))
    parser.add_argument("--steps", type=int, default=100, help="training steps per trial")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="read-ahead threads / processes")
    parser.add_argument("--rounds", type=int, default=3, help="ours/baseline alternations")
    parser.add_argument("--keep-cache", action="store_true", help="keep the cache folder")
    parser.add_argument("--trial", dest="role", choices=["ours", "baseline"], default=None)
    args = parser.parse_args()
    args.folder = args.folder or Path(f"/tmp/nas-bench/folder-{args.images}")
    return args


def main() -> None:
    args = parse()
    if args.role:
        return trial(args)
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _synthetic_folder import make_folder

    make_folder(args.folder, args.images, args.val)
    shutil.rmtree(args.cache, ignore_errors=True)  # decoding is part of this run
    ours, baseline, decodes = [], [], 0
    for round_ in range(1, args.rounds + 1):  # alternating: other load hits both sides alike
        print(f"round {round_}")
        results, before, peak = two_trials(args, "ours")
        decodes += sum(r["decoded"] for r in results)
        ours.append(report("ours", results, before, peak))
        baseline.append(report("baseline", *two_trials(args, "baseline")))
    wall, cpu = (max(column) for column in zip(*ours))
    base_wall, base_cpu = (max(column) for column in zip(*baseline))
    print(f"ratio ours / baseline (best round of each): {wall / base_wall:.2f}x images/s "
          f"(target >= 0.9), {cpu / base_cpu:.2f}x images per CPU second")  # fmt: skip
    print(f"decodes over {2 * args.rounds} trial processes of ours: {decodes}")
    folders = [p for p in args.cache.iterdir() if p.is_dir() and not p.name.startswith(".")]
    size = sum(f.stat().st_size for f in folders[0].iterdir()) / 2**30
    print(f"cache folders after both trials: {len(folders)} ({size:.1f} GB)")
    if not args.keep_cache:  # ~15 GB at the default size
        shutil.rmtree(args.cache, ignore_errors=True)


if __name__ == "__main__":
    main()
