"""The GPU check: training, the data path, Ray Tune search, latency and export, on CUDA.

Every figure is measured against a baseline in the same run and written to
``OUT/gpu_check.json`` and ``OUT/gpu_check.txt`` (a short table):

- train: images/s of ``evaluators.training`` with bf16 autocast + channels-last against
  fp32 (and NCHW), and against a plain hand-written loop (the same model, optimizer and
  precision, every image already on the GPU, no augmentation), for one convolutional and
  one attention candidate at batch 256; GPU utilisation sampled with ``nvidia-smi``.
- data: uint8 batches from the on-disk cache arrive pinned; the same seed gives the same
  crops and flips on the GPU as on the CPU (exact), and the whole augmented batch agrees.
- search: ``nas search`` through Ray Tune with 1, 0.25 and 0.125 GPUs per trial on the
  same candidates (random sampler, one seed): trials per hour, utilisation, memory per
  trial process, the device named in trials.csv, failed trials.
- latency: ``evaluators.latency.measure_latency`` on CUDA against ``torch.utils.benchmark``.
- export: a model trained on the GPU by the search is exported (safetensors, ONNX) and
  reloaded on the CPU; its logits against the GPU model's (fp32) and ONNX Runtime's.

``--dry-run`` runs every section on the CPU with small sizes (the test suite does, so
the script cannot rot); figures from a dry run say nothing about GPUs.

    python benchmarks/gpu_check.py --out DIR [--dry-run] [--sections train,data,...]
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from _synthetic_folder import make_folder

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.datasets.augment import augment
from evaluators.device import plan_device
from evaluators.latency import measure_latency
from evaluators.training import train_and_evaluate
from search_space import build_model, load_architecture

SECTIONS = ("data", "train", "latency", "search", "export")
CLASSES = 100  # the synthetic folder's
INPUT = {"channels": 3, "resolution": 32, "classes": CLASSES}
CONV = {
    "name": "gpu-check-conv",
    "input": INPUT,
    "stem": {"type": "conv", "width": 64, "stride": 1},
    "stages": [
        {"block": "resnet", "depth": 2, "width": 64, "kernel": 3, "act": "relu"},
        {"block": "resnet", "depth": 2, "width": 128, "stride": 2, "kernel": 3, "act": "relu"},
        {"block": "resnet", "depth": 2, "width": 256, "stride": 2, "kernel": 3, "act": "relu"},
    ],
    "head": {"pool": "avg"},
}
ATTENTION = {
    "name": "gpu-check-attention",
    "input": INPUT,
    "stem": {"type": "patchify", "width": 192, "patch": 2, "norm": "layer"},
    "stages": [
        {"block": "attention", "depth": 6, "width": 192, "heads": 4, "mlp_ratio": 4},
    ],
    "head": {"pool": "avg", "norm": "layer"},
}


class Sizes:
    def __init__(self, dry_run: bool):
        self.dry_run = dry_run
        self.device = "cpu" if dry_run else "cuda"
        self.train_images, self.val_images = (128, 32) if dry_run else (40_000, 5_000)
        self.batch = 16 if dry_run else 256
        self.epochs = 1 if dry_run else 3
        self.trials = 2 if dry_run else 16
        self.search_train_limit = 100 if dry_run else 12_000
        self.search_timeout = 150
        self.gpu_shares = (None,) if dry_run else (1.0, 0.25, 0.125)
        self.latency_repeats = 10 if dry_run else 100
        self.latency_batches = (1, 4) if dry_run else (1, 64)


class Sampler:
    """``nvidia-smi`` read every `interval` s in the background: utilisation, memory, and
    memory per compute process. Records nothing where there is no nvidia-smi."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.gpu, self.apps = interval, [], {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = shutil.which("nvidia-smi") is not None

    def __enter__(self) -> Sampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()

    def _query(self, *args: str) -> list[list[str]]:
        try:
            out = subprocess.run(
                ["nvidia-smi", *args, "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=5, check=False,
            ).stdout  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return []
        return [[v.strip() for v in line.split(",")] for line in out.splitlines() if line.strip()]

    def _run(self) -> None:
        while not self._stop.is_set():
            for row in self._query("--query-gpu=utilization.gpu,memory.used"):
                if len(row) == 2 and row[0].isdigit():
                    self.gpu.append((float(row[0]), float(row[1])))
            for row in self._query("--query-compute-apps=pid,used_memory"):
                if len(row) == 2 and row[1].isdigit():
                    self.apps[row[0]] = max(self.apps.get(row[0], 0.0), float(row[1]))
            self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        util = [u for u, _ in self.gpu]
        per_process = sorted(self.apps.values())
        return {
            "samples": len(util),
            "gpu_util_mean_pct": statistics.fmean(util) if util else None,
            "gpu_util_median_pct": statistics.median(util) if util else None,
            "gpu_memory_max_mib": max((m for _, m in self.gpu), default=None),
            "processes": len(per_process),
            "process_memory_median_mib": statistics.median(per_process) if per_process else None,
            "process_memory_max_mib": per_process[-1] if per_process else None,
        }


def _input(spec: dict) -> Any:
    return load_architecture(spec).input


def synthetic_data(work: Path, sizes: Sizes) -> DataConfig:
    folder = make_folder(
        work / f"folder-{sizes.train_images}-{sizes.val_images}",
        sizes.train_images,
        sizes.val_images,
        size=32,
        workers=os.cpu_count() or 2,
    )
    return DataConfig(name="imagefolder", root=str(folder), cache_dir=str(work / "cache"))


# --- train ---------------------------------------------------------------------------------


def plain_loop(spec: dict, dataset: Any, sizes: Sizes, amp: bool, epochs: int = 0) -> float:
    """Images/s of the textbook loop: all images on the device, AdamW, cross-entropy."""
    plan = plan_device(sizes.device, amp=amp, channels_last=amp)
    torch.manual_seed(0)
    model = plan.prepare_model(build_model(load_architecture(spec)))
    images = dataset.train.images[torch.arange(len(dataset.train))].to(plan.device)
    labels = dataset.train.labels.to(plan.device)
    mean = torch.tensor(dataset.mean, device=plan.device).view(1, -1, 1, 1)
    std = torch.tensor(dataset.std, device=plan.device).view(1, -1, 1, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    steps, seconds, epochs = len(labels) // sizes.batch, 0.0, epochs or sizes.epochs
    model.train()
    with Sampler():  # the same background sampling as for ours
        for epoch in range(epochs):
            order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(epoch))
            order = order.to(plan.device)
            plan.synchronize()
            start = time.perf_counter()
            for i in range(steps):
                index = order[i * sizes.batch : (i + 1) * sizes.batch]
                batch = plan.prepare_batch((images[index].float() / 255 - mean) / std)
                with plan.autocast():
                    loss = F.cross_entropy(model(batch), labels[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            plan.synchronize()
            seconds += time.perf_counter() - start
    return steps * sizes.batch * epochs / seconds


def ours(
    spec: dict, data: DataConfig, sizes: Sizes, *, amp: bool, augment_on: bool,
    epochs: int = 0, batch: int = 0, cudnn_benchmark: bool = False,
) -> dict:  # fmt: skip
    train = TrainConfig(
        epochs=epochs or sizes.epochs, batch_size=batch or sizes.batch, device=sizes.device,
        amp=amp, channels_last=amp,
    )  # fmt: skip
    torch.manual_seed(0)
    model = build_model(load_architecture(spec))
    config = DataConfig(**{**data.__dict__, "augment": augment_on})
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = cudnn_benchmark
    try:
        with Sampler() as sampler:
            result = train_and_evaluate(model, config, train, expected_input=_input(spec))
    finally:
        torch.backends.cudnn.benchmark = previous
    return {"images_per_s": result["images_per_second"], **sampler.summary()}


def check_train(data: DataConfig, sizes: Sizes) -> dict:
    """Each configuration is run once untimed first (CUDA's lazily loaded kernels, cuDNN's
    choices), so the order of the timed runs does not favour the later ones."""
    out = {}
    for spec in (CONV, ATTENTION):
        dataset = load_dataset(DataConfig(**{**data.__dict__, "augment": False}), _input(spec))
        for amp in (True, False) if not sizes.dry_run else ():
            plain_loop(spec, dataset, sizes, amp=amp, epochs=1)
            ours(spec, data, sizes, amp=amp, augment_on=True, epochs=1)
        bf16 = ours(spec, data, sizes, amp=True, augment_on=False)
        fp32 = ours(spec, data, sizes, amp=False, augment_on=False)
        augmented = ours(spec, data, sizes, amp=True, augment_on=True)
        plain_bf16 = plain_loop(spec, dataset, sizes, amp=True)
        plain_fp32 = plain_loop(spec, dataset, sizes, amp=False)
        row = out[spec["name"]] = {
            "batch_size": sizes.batch,
            "ours_bf16_channels_last": bf16,
            "ours_fp32": fp32,
            "ours_bf16_channels_last_augmented": augmented,
            "plain_bf16_channels_last_images_per_s": plain_bf16,
            "plain_fp32_images_per_s": plain_fp32,
            "bf16_over_fp32": bf16["images_per_s"] / fp32["images_per_s"],
            "ours_over_plain_bf16": bf16["images_per_s"] / plain_bf16,
            "ours_over_plain_fp32": fp32["images_per_s"] / plain_fp32,
        }
        if spec is CONV:  # a GPU's batch size, and cuDNN's autotuner, on the small convnet
            big = 4 * sizes.batch
            bf16_big = ours(spec, data, sizes, amp=True, augment_on=False, batch=big)
            fp32_big = ours(spec, data, sizes, amp=False, augment_on=False, batch=big)
            tuned = ours(spec, data, sizes, amp=True, augment_on=False, cudnn_benchmark=True)
            row.update(
                {
                    f"batch{big}_bf16_images_per_s": bf16_big["images_per_s"],
                    f"batch{big}_fp32_images_per_s": fp32_big["images_per_s"],
                    f"batch{big}_bf16_over_fp32": bf16_big["images_per_s"]
                    / fp32_big["images_per_s"],
                    "cudnn_benchmark_bf16_images_per_s": tuned["images_per_s"],
                    "cudnn_benchmark_gain": tuned["images_per_s"] / bf16["images_per_s"],
                }
            )
    return out


# --- data ----------------------------------------------------------------------------------


def check_data(data: DataConfig, sizes: Sizes) -> dict:
    from evaluators.training import _Batches

    dataset = load_dataset(data, _input(CONV))
    pin = torch.cuda.is_available()
    batches = dataset.train_batches(sizes.batch, torch.Generator().manual_seed(1), pin_memory=pin)
    images, _ = next(iter(batches))
    batches.close()
    on_cpu = augment(images, dataset.augmentation, torch.Generator().manual_seed(7))
    on_device = augment(
        images.to(sizes.device, non_blocking=True),
        dataset.augmentation,
        torch.Generator().manual_seed(7),
    )
    train = TrainConfig(batch_size=sizes.batch, random_erasing=0.25)
    pipelines, resident = [], False
    for name in ("cpu", sizes.device):
        plan = plan_device(name, amp=False, channels_last=False)
        torch.manual_seed(5)  # random erasing draws from the global generator, as in training
        reader = _Batches(dataset, train, plan, seed=3)  # on CUDA: the split kept on the GPU
        resident = reader.resident is not None
        first = next(iter(reader.epoch(1)))
        pipelines.append(first[0].float().cpu())
    return {
        "batch_dtype": str(images.dtype),
        "batch_pinned": bool(images.is_pinned()) if pin else None,
        "crops_flips_equal_to_cpu": bool(torch.equal(on_cpu, on_device.cpu())),
        "augmented_batch_max_abs_diff": float((pipelines[0] - pipelines[1]).abs().max()),
        "dataset_in_memory": bool(isinstance(dataset.train.images, torch.Tensor)),
        "train_split_on_device": resident,  # batches gathered on the GPU, none copied
    }


# --- search --------------------------------------------------------------------------------


def search_space_file(work: Path, data: DataConfig, sizes: Sizes) -> Path:
    space = {
        "name": "gpu-check",
        "input": INPUT,
        "stem": {"type": ["conv", "patchify"], "width": [32, 48], "stride": 1, "patch": 2},
        "stages": [
            {
                "block": ["resnet", "mbconv", "convnext"],
                "depth": {"low": 1, "high": 2},
                "width": [32, 48, 64],
                "kernel": [3, 5],
                "expansion": [2, 4],
            },
            {
                "block": ["resnet", "convnext", "attention"],
                "depth": {"low": 1, "high": 2},
                "width": [64, 96],
                "stride": 2,
                "kernel": 3,
                "expansion": 4,
                "heads": [2, 4],
                "mlp_ratio": 2,
            },
        ],
        "head": {"pool": "avg"},
        "data": {
            "name": "imagefolder",
            "root": data.root,
            "cache_dir": data.cache_dir,
            "limit": sizes.search_train_limit,
        },
        "train": {"epochs": 1, "batch_size": sizes.batch},
        "search": {"objectives": {"accuracy": "max", "flops": "min"}},
    }
    path = work / "gpu-check-space.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False))
    return path


def run_search(space: Path, output: Path, sizes: Sizes, gpus: float | None) -> dict:
    cpus = os.cpu_count() or 2
    args = [sys.executable, "-m", "nas", "search", str(space), "--trials", str(sizes.trials)]
    args += ["--sampler", "random", "--seed", "0", "--output", str(output), "--no-plots"]
    if gpus is None:  # dry run: CPU only, one trial at a time
        args += ["--cpus-per-trial", "1", "--max-concurrent", "1"]
    else:
        share = round(1 / gpus)  # trials that fit on the GPU at once
        args += ["--gpus-per-trial", str(gpus), "--cpus-per-trial", str(max(1, cpus // share))]
    start = time.perf_counter()
    with Sampler(interval=0.5) as sampler:
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, check=False, timeout=sizes.search_timeout
            )
        except subprocess.TimeoutExpired as timeout:
            tail = (timeout.stderr or b"")[-1500:]
            return {
                "gpus_per_trial": gpus,
                "timed_out_s": sizes.search_timeout,
                "stderr_tail": str(tail),
            }
    wall = time.perf_counter() - start
    rows = list(csv.DictReader((output / "trials.csv").open())) if done.returncode == 0 else []
    return {
        "gpus_per_trial": gpus,
        "returncode": done.returncode,
        "stderr_tail": done.stderr[-1500:] if done.returncode else "",
        "wall_s": wall,
        **trial_figures(rows),
        **sampler.summary(),
    }


def trial_figures(rows: list[dict]) -> dict:
    from datetime import datetime

    complete = [r for r in rows if r["state"] == "complete"]
    starts = [datetime.fromisoformat(r["datetime_start"]) for r in complete]
    ends = [datetime.fromisoformat(r["datetime_complete"]) for r in complete]
    span = (max(ends) - min(starts)).total_seconds() if complete else float("nan")
    phases = {  # where a trial's time goes, and the driver's gap between trials
        f"median_{key}": statistics.median(float(r[key] or 0) for r in complete)
        for key in complete[0]
        if key.startswith("seconds_")
    } if complete else {}  # fmt: skip
    ordered = sorted(zip(starts, ends))
    gaps = [(b[0] - a[1]).total_seconds() for a, b in itertools.pairwise(ordered)]
    return {
        **phases,
        "median_gap_after_previous_end_s": statistics.median(gaps) if gaps else None,
        "trials": len(rows),
        "complete": len(complete),
        "failed": len([r for r in rows if r["state"] != "complete"]),
        "out_of_memory": len([r for r in rows if "out of memory" in (r.get("error") or "")]),
        "devices": sorted({r.get("device", "") for r in rows}),
        "trial_span_s": span,
        "trials_per_hour": len(complete) / span * 3600 if complete else 0.0,
        "median_trial_s": statistics.median(float(r["duration_s"]) for r in complete)
        if complete
        else None,
    }


def check_search(work: Path, data: DataConfig, sizes: Sizes) -> dict:
    space = search_space_file(work, data, sizes)
    runs = {}
    for gpus in sizes.gpu_shares:
        name = "cpu" if gpus is None else f"gpus_{gpus:g}"
        runs[name] = run_search(space, work / f"search-{name}", sizes, gpus)
        print(f"search {name}: {json.dumps(runs[name])[:400]}", file=sys.stderr, flush=True)
    if "gpus_1" in runs:
        one = runs["gpus_1"]["trials_per_hour"] or float("nan")
        for gpus in ("gpus_0.25", "gpus_0.125"):
            runs[gpus]["trials_per_hour_over_one_gpu"] = runs[gpus]["trials_per_hour"] / one
    return runs


# --- latency -------------------------------------------------------------------------------


def check_latency(sizes: Sizes) -> dict:
    from torch.utils import benchmark

    out = {}
    for spec in (CONV, ATTENTION):
        for batch in sizes.latency_batches:
            torch.manual_seed(0)
            model = build_model(load_architecture(spec))
            shape = (3, 32, 32)
            ours_ms = measure_latency(
                model, shape, batch_size=batch, device=sizes.device,
                warmup=10, repeats=sizes.latency_repeats,
            )["latency_ms"]  # fmt: skip
            plan = plan_device(sizes.device)
            reference = plan.prepare_model(copy.deepcopy(model)).eval()
            inputs = plan.prepare_batch(torch.randn(batch, *shape))

            def forward(
                net: torch.nn.Module = reference,
                x: torch.Tensor = inputs,
                cast: Any = plan.autocast,
            ) -> None:
                with torch.inference_mode(), cast():
                    net(x)

            timer = benchmark.Timer(  # its default is one thread; ours uses torch's setting
                stmt="forward()", globals={"forward": forward}, num_threads=torch.get_num_threads()
            )
            theirs_ms = timer.blocked_autorange(min_run_time=0.5 if sizes.dry_run else 2).median
            theirs_ms *= 1000
            out[f"{spec['name']}_batch{batch}"] = {
                "ours_ms": ours_ms,
                "torch_benchmark_ms": theirs_ms,
                "ratio": ours_ms / theirs_ms,
            }
    return out


# --- export --------------------------------------------------------------------------------


def check_export(work: Path, sizes: Sizes) -> dict:
    runs = sorted(p for p in work.glob("search-*") if (p / "trials.csv").exists())
    if not runs:
        return {"skipped": "no search run to export from"}
    run = runs[-1]
    rows = [r for r in csv.DictReader((run / "trials.csv").open()) if r["state"] == "complete"]
    best = max(rows, key=lambda r: float(r["accuracy"]))
    args = [sys.executable, "-m", "nas", "export", str(run), "--pick", best["number"], "--json"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"returncode": done.returncode, "stderr_tail": done.stderr[-1500:]}
    import numpy as np
    import onnxruntime

    import nas

    folder = next(p for p in (run / "export").iterdir() if (p / "arch.yaml").exists())
    inputs = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    on_cpu = nas.load_model(folder, device="cpu").eval()
    with torch.inference_mode():
        cpu_logits = on_cpu(inputs)
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        on_device = nas.load_model(folder, device=sizes.device).eval()
        with torch.inference_mode():
            device_logits = on_device(inputs.to(sizes.device)).cpu()
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    onnx_path = next(folder.glob("*.onnx"), None)
    onnx_diff = None
    if onnx_path is not None:
        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        onnx_logits = session.run(None, {name: inputs.numpy()})[0]
        onnx_diff = float(np.abs(onnx_logits - cpu_logits.numpy()).max())
    return {
        "run": run.name,
        "trial": int(best["number"]),
        "trained_on": best.get("device"),
        "files": sorted(p.name for p in folder.iterdir()),
        "cpu_vs_gpu_fp32_max_abs_diff": float((cpu_logits - device_logits).abs().max()),
        "logit_scale": float(cpu_logits.abs().max()),
        "onnx_vs_cpu_max_abs_diff": onnx_diff,
    }


# --- table ---------------------------------------------------------------------------------


def table(results: dict) -> str:
    lines = [f"gpu check on {results['device_name']} (torch {results['torch']}), "
             f"{results['date']}{' DRY RUN on CPU' if results['dry_run'] else ''}"]  # fmt: skip
    for name, row in results.get("train", {}).items():
        lines.append(
            f"train {name} batch {row['batch_size']}: bf16+CL "
            f"{row['ours_bf16_channels_last']['images_per_s']:.0f} img/s, fp32 "
            f"{row['ours_fp32']['images_per_s']:.0f} ({row['bf16_over_fp32']:.2f}x); plain loop "
            f"bf16 {row['plain_bf16_channels_last_images_per_s']:.0f} "
            f"(ours {row['ours_over_plain_bf16']:.2f}x), fp32 "
            f"{row['plain_fp32_images_per_s']:.0f} (ours {row['ours_over_plain_fp32']:.2f}x); "
            f"augmented {row['ours_bf16_channels_last_augmented']['images_per_s']:.0f} img/s, "
            f"GPU util {row['ours_bf16_channels_last_augmented']['gpu_util_mean_pct']}%"
        )
        if "cudnn_benchmark_gain" in row:
            big = next(k for k in row if k.endswith("_bf16_over_fp32"))
            lines.append(
                f"  {big.split('_')[0]}: bf16+CL over fp32 {row[big]:.2f}x; cudnn.benchmark "
                f"{row['cudnn_benchmark_bf16_images_per_s']:.0f} img/s "
                f"({row['cudnn_benchmark_gain']:.2f}x)"
            )
    if "data" in results:
        d = results["data"]
        lines.append(
            f"data: {d['batch_dtype']} batches, pinned {d['batch_pinned']}, crops+flips equal "
            f"to CPU {d['crops_flips_equal_to_cpu']}, augmented batch max diff "
            f"{d['augmented_batch_max_abs_diff']:.2g}"
        )
    for name, row in results.get("search", {}).items():
        lines.append(
            f"search {name}: {row.get('complete')}/{row.get('trials')} complete, "
            f"{row.get('failed')} failed ({row.get('out_of_memory')} OOM), "
            f"{row.get('trials_per_hour', 0):.0f} trials/h"
            + (
                f" ({row['trials_per_hour_over_one_gpu']:.2f}x one GPU)"
                if "trials_per_hour_over_one_gpu" in row
                else ""
            )
            + f", util {row.get('gpu_util_mean_pct')}%, per-process memory max "
            f"{row.get('process_memory_max_mib')} MiB, devices {row.get('devices')}"
        )
    for name, row in results.get("latency", {}).items():
        lines.append(
            f"latency {name}: ours {row['ours_ms']:.3f} ms, torch.utils.benchmark "
            f"{row['torch_benchmark_ms']:.3f} ms (ratio {row['ratio']:.2f})"
        )
    if "export" in results:
        e = results["export"]
        lines.append(f"export: {json.dumps(e)}")
    lines.append(f"total {results['seconds_total']:.0f} s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON and table")
    parser.add_argument("--work", type=Path, help="scratch folder (default OUT/../gpu-check-work)")
    parser.add_argument("--dry-run", action="store_true", help="small sizes on the CPU")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    args = parser.parse_args()
    sizes = Sizes(args.dry_run)
    if not args.dry_run and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; use --dry-run on a CPU", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / "gpu-check-work"
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    from evaluators.device import device_name

    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "dry_run": args.dry_run,
        "device_name": device_name(sizes.device),
        "torch": torch.__version__,
    }
    data = synthetic_data(work, sizes)
    checks = {
        "train": lambda: check_train(data, sizes),
        "data": lambda: check_data(data, sizes),
        "search": lambda: check_search(work, data, sizes),
        "latency": lambda: check_latency(sizes),
        "export": lambda: check_export(work, sizes),
    }
    for name in args.sections.split(","):
        tick = time.perf_counter()
        try:
            results[name] = checks[name]()
        except Exception as error:  # one failing check must not hide the others' figures
            results[name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
        results.setdefault("seconds", {})[name] = time.perf_counter() - tick
        print(f"{name}: {time.perf_counter() - tick:.0f} s", file=sys.stderr, flush=True)
        (args.out / "gpu_check.json").write_text(json.dumps(results, indent=1, default=str))
    results["seconds_total"] = time.perf_counter() - start
    (args.out / "gpu_check.json").write_text(json.dumps(results, indent=1, default=str))
    try:
        text = table(results)
    except Exception as error:  # the JSON holds everything; the table is a summary
        text = f"table failed: {error}"
    (args.out / "gpu_check.txt").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
