"""`nas train ARCH`: train one architecture and score it on the validation split.

The file's ``data:`` and ``train:`` sections are the defaults; flags win. Progress goes
to stderr; stdout holds the result (one JSON document with --json).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

# flag attribute -> (section, key): what each flag overrides
_OVERRIDES = {
    "data": ("data", "name"),
    "data_root": ("data", "root"),
    "download": ("data", "download"),
    "limit": ("data", "limit"),
    "augment": ("data", "augment"),
    "epochs": ("train", "epochs"),
    "seed": ("train", "seed"),
    "batch_size": ("train", "batch_size"),
    "lr": ("train", "lr"),
    "optimizer": ("train", "optimizer"),
    "device": ("train", "device"),
    "threads": ("train", "threads"),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train one architecture and report its accuracy")
    parser.add_argument("arch", help="an architecture file (all values fixed) or a zoo name")
    parser.add_argument("--data", metavar="NAME", help="dataset (default: the file's, or mnist5k)")
    parser.add_argument("--data-root", metavar="PATH", help="folder holding torchvision datasets")
    parser.add_argument("--download", action="store_true", default=None, help="fetch if missing")
    parser.add_argument("--limit", type=int, metavar="N", help="use only N images (smoke tests)")
    parser.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        default=None,
        help="switch data augmentation off",
    )
    parser.add_argument("--epochs", type=int, metavar="N")
    parser.add_argument("--seed", type=int, metavar="S", help="seeds weights, data order, dropout")
    parser.add_argument("--batch-size", type=int, metavar="B")
    parser.add_argument("--lr", type=float, metavar="LR", help="peak learning rate")
    parser.add_argument("--optimizer", choices=("adamw", "sgd"))
    parser.add_argument("--device", metavar="D", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--threads", type=int, metavar="N", help="torch CPU threads")
    parser.add_argument(
        "--save-weights", metavar="PATH", help="write the trained weights (safetensors)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from evaluators.datasets import load_dataset
    from evaluators.errors import TrainingFailed
    from evaluators.flops import count_arch_flops
    from evaluators.training import train_and_evaluate
    from nas.console import note, print_json
    from search_space import build_model, count_params, load_architecture

    arch = load_architecture(args.arch)
    data, train = _configs(arch, args, _source(args.arch))
    dataset = load_dataset(data, arch.input)  # a wrong dataset fails here, in one line
    torch.manual_seed(train.seed)  # the same initial weights for the same seed
    model = build_model(arch)
    counts = {"params": count_params(model), "flops": count_arch_flops(model, arch)["flops"]}
    note(
        f"training {arch.name} ({arch.summary()}) on {data.name} "
        f"({len(dataset.train)} train / {len(dataset.val)} val images), {train.epochs} epoch(s)"
    )
    try:
        result = train_and_evaluate(model, dataset, train, on_epoch=_progress(train.epochs))
    except TrainingFailed as failure:
        if args.json:
            print_json({"name": arch.name, "failed": True, "error": str(failure)})
        print(f"nas train: failed: {failure}", file=sys.stderr)
        return 1
    if args.save_weights:
        _save(model, args.save_weights)
        note(f"weights written to {args.save_weights}")
    report = _report(arch, data, train, counts, result)
    if args.json:
        print_json(report)
    else:
        _print_summary(report)
    return 0


def _source(arch: str) -> str:
    from search_space.loader import resolve

    return str(resolve(arch))


def _configs(arch: Any, args: argparse.Namespace, source: str) -> tuple[Any, Any]:
    """The file's data: and train: sections (its relative paths read from its folder,
    as a search reads them) with the flags applied."""
    from evaluators.config import DataConfig, TrainConfig
    from nas.engine.overrides import check_run_setting
    from nas.engine.space_paths import resolve_file_paths
    from search_space.errors import SpaceError

    run_config, notes = resolve_file_paths(arch.run_config, source)
    for remark in notes:
        print(f"nas train: {remark}", file=sys.stderr)
    sections = {
        "data": dict(run_config.get("data") or {}),
        "train": dict(run_config.get("train") or {}),
    }
    problems = []  # every bad flag at once, each under its own name
    for attribute, (section, key) in _OVERRIDES.items():
        value = getattr(args, attribute)
        if value is None:
            continue
        try:
            check_run_setting(section, key, value, _flag(attribute))
        except SpaceError as error:
            problems += error.problems
        sections[section][key] = value
    if problems:
        raise SpaceError(problems)
    return DataConfig.from_dict(sections["data"]), TrainConfig.from_dict(sections["train"])


def _flag(attribute: str) -> str:
    """The flag the user typed for an `args` attribute."""
    return "--no-augment" if attribute == "augment" else "--" + attribute.replace("_", "-")


def _progress(epochs: int):
    from nas.console import note

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        note(
            f"epoch {epoch}/{epochs}: val accuracy {metrics['accuracy']:.4f}, "
            f"balanced {metrics['balanced_accuracy']:.4f}, "
            f"val loss {metrics['loss']:.4f}, train loss {metrics['train_loss']:.4f} "
            f"({metrics['seconds']:.1f} s)"
        )

    return on_epoch


def _report(arch: Any, data: Any, train: Any, counts: dict, result: dict) -> dict[str, Any]:
    keys = (
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "confusion",
        "loss",
        "best_accuracy",
        "train_loss",
        "train_seconds",
        "eval_seconds",
        "images_per_second",
        "epochs",
        "steps",
        "train_images",
        "val_images",
        "device",
        "device_name",
        "threads",
    )
    return {
        "name": arch.name,
        "summary": arch.summary(),
        **{key: result[key] for key in keys},
        **counts,
        "seed": train.seed,
        "data": dataclasses.asdict(data),
        "train": dataclasses.asdict(train),
        "history": result["history"],
    }


def _save(model: Any, path: str) -> None:
    from pathlib import Path

    from safetensors.torch import save_model

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_model(model.to("cpu"), path)


def _print_summary(report: dict[str, Any]) -> None:
    print(f"{report['name']}: {report['summary']}")
    print(f"  val accuracy  {report['accuracy']:.4f}  (best {report['best_accuracy']:.4f})")
    print(
        f"  balanced      {report['balanced_accuracy']:.4f}  "
        f"(macro F1 {report['macro_f1']:.4f}; confusion rows = true class: "
        f"{report['confusion']})"
    )
    print(f"  val loss      {report['loss']:.4f}")
    print(
        f"  train time    {report['train_seconds']:.1f} s over {report['epochs']} epochs, "
        f"{report['images_per_second']:.0f} images/s on {report['device']} "
        f"({report['threads']} threads)"
    )
    print(
        f"  data          {report['data']['name']}: {report['train_images']} train / "
        f"{report['val_images']} val images"
    )
