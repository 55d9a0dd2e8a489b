"""Does the elpv space's recipe train every family? One network per family on elpv.

The four baselines of the case study (benchmarks/elpv_baselines/: ResNet-18,
MobileNetV3, ConvNeXt-Atto, ViT-Ti, rescaled to the space) and one hybrid (the
MobileNetV3 stages with a last stage of attention) are trained exactly as a user would,
with ``nas train FILE --json`` in a fresh process, on the elpv space's ``data`` and
``train`` sections (defective or not, 64x64 gray, its split). The table gives each
one's validation accuracy, balanced accuracy and macro F1 against the majority-class
baseline (accuracy 0.688 and balanced accuracy 0.5 on this validation split), with its
FLOPs and training seconds. ``--set train.KEY=VALUE`` changes the recipe for every
network (the comparison behind a recipe default, or ``train.class_weights=balanced``).

    python benchmarks/elpv_families.py [--only resnet18,vit_tiny] [--epochs N]
        [--threads T] [--set train.lr=1e-3 ...]

Needs the elpv extra (``pip install 'nas-vision[elpv]'``). Measured times are in the
README ("Solar-cell defects (elpv)"); at the space's 6 epochs the five networks took
11 minutes on this 2-core machine while other jobs shared it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "search_space" / "spaces" / "elpv.yaml"
BASELINES = ROOT / "benchmarks" / "elpv_baselines"
HYBRID_LAST_STAGE = {"block": "attention", "depth": 2, "width": 96, "stride": 1, "heads": 4}


def networks() -> dict[str, dict]:
    """name -> architecture document (without run sections)."""
    found = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(BASELINES.glob("*.yaml"))}
    hybrid = json.loads(json.dumps(found["mobilenetv3"]))
    hybrid["name"] = "hybrid_mbconv_attention"
    hybrid["stages"][-1] = {**HYBRID_LAST_STAGE, "mlp_ratio": 4, "layer_scale": 0.1}
    found["hybrid"] = hybrid
    return found


def with_recipe(arch: dict, settings: list[str]) -> dict:
    """`arch` with the elpv space's data and train sections, `settings` applied."""
    space = yaml.safe_load(SPACE.read_text())
    sections = {"data": dict(space["data"]), "train": dict(space["train"])}
    for setting in settings:
        key, _, value = setting.partition("=")
        section, _, name = key.partition(".")
        sections[section][name] = yaml.safe_load(value)
    return {**arch, **sections}


def train(arch: dict, epochs: int | None, threads: int | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{arch['name']}.yaml"
        path.write_text(yaml.safe_dump(arch, sort_keys=False))
        flags = ["--epochs", str(epochs)] if epochs else []
        flags += ["--threads", str(threads)] if threads else []
        start = time.perf_counter()
        command = [sys.executable, "-m", "nas", "train", str(path), "--json", *flags]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{arch['name']}: nas train failed: {done.stderr.strip()[-400:]}")
        report = json.loads(done.stdout)
        report["wall_seconds"] = time.perf_counter() - start
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names (default: all five)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--set", action="append", default=[], metavar="train.KEY=VALUE")
    args = parser.parse_args()
    chosen = networks()
    if args.only:
        chosen = {name: chosen[name] for name in args.only.split(",")}
    print(f"recipe overrides: {args.set or 'none'}; epochs {args.epochs or 'the space default'}")
    print(f"{'network':<28}{'acc':>7}{'bal.acc':>9}{'macroF1':>9}{'MFLOPs':>8}{'train s':>9}")
    for name, arch in chosen.items():
        report = train(with_recipe(arch, args.set), args.epochs, args.threads)
        print(
            f"{name:<28}{report['accuracy']:>7.3f}{report['balanced_accuracy']:>9.3f}"
            f"{report['macro_f1']:>9.3f}{report['flops'] / 1e6:>8.1f}"
            f"{report['train_seconds']:>9.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
