"""Is the demo recipe fair to every block family? One small network per family on mnist5k.

For each block type, an architecture made of the demo space's input, stem, head, data
and train sections (as ``nas sample`` prints them for the demo space) and two stages of
that block alone: depth 2 at width 32, then depth 2 at width 64 with stride 2, every
other block key at its default. Each is trained exactly as a user would, with
``nas train FILE --json`` in a fresh process, and must reach 95% validation accuracy.

The baseline in the same run is the target itself: the table shows each family's
accuracy against 0.95, plus params, FLOPs and training seconds (which, on this machine,
bound how many trials a 5-minute demo search can afford).

    python benchmarks/family_fairness.py [--space search_space/spaces/demo.yaml]
        [--blocks resnet,attention] [--epochs N] [--threads T] [--set train.lr=3e-3 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = ("resnet", "bottleneck", "mbconv", "convnext", "attention", "mixer")
TARGET = 0.95


def demo_sections(space: Path, seed: int) -> dict:
    """The input, stem, head, data and train sections of `nas sample SPACE --seed S`."""
    out = _nas("sample", str(space), "--seed", str(seed), "--json")
    arch = json.loads(out)[0]["architecture"]
    return {key: arch[key] for key in ("input", "stem", "head", "data", "train") if key in arch}


def family_architecture(block: str, sections: dict) -> dict:
    """Two stages of `block` alone on the demo's sections; other block keys default."""
    stages = [
        {"block": block, "depth": 2, "width": 32},
        {"block": block, "depth": 2, "width": 64, "stride": 2},
    ]
    return {"name": f"fair-{block}", **sections, "stages": stages}


def train_family(arch: dict, epochs: int | None, threads: int | None = None) -> dict:
    """`nas train FILE --json` on the architecture; returns its JSON report and wall seconds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{arch['name']}.yaml"
        path.write_text(yaml.safe_dump(arch, sort_keys=False))
        flags = ["--epochs", str(epochs)] if epochs else []
        flags += ["--threads", str(threads)] if threads else []
        start = time.perf_counter()
        report = json.loads(_nas("train", str(path), "--json", *flags))
        report["wall_seconds"] = time.perf_counter() - start
    return report


def _nas(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "nas", *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"nas {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _apply_overrides(sections: dict, overrides: list[str]) -> None:
    """`--set train.lr=3e-3` style edits of the sections (values parsed as YAML)."""
    for item in overrides:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        sections.setdefault(section, {})[name] = yaml.safe_load(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_space/spaces/demo.yaml"))
    parser.add_argument("--seed", type=int, default=0, help="nas sample seed for the sections")
    parser.add_argument("--blocks", default=",".join(BLOCKS))
    parser.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    parser.add_argument("--threads", type=int, default=None, help="nas train --threads")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    sections = demo_sections(Path(args.space), args.seed)
    _apply_overrides(sections, args.set)
    print(f"sections: {json.dumps(sections, sort_keys=True)}")
    print(f"{'block':<11} {'params':>8} {'FLOPs':>10} {'accuracy':>9} {'seconds':>8}  >= 0.95")
    failures = []
    for block in args.blocks.split(","):
        report = train_family(family_architecture(block, sections), args.epochs, args.threads)
        ok = report["accuracy"] >= TARGET
        failures += [] if ok else [block]
        print(
            f"{block:<11} {report['params']:>8,} {report['flops']:>10.3g} "
            f"{report['accuracy']:>9.4f} {report['train_seconds']:>8.1f}  {'yes' if ok else 'NO'}",
            flush=True,
        )
    print(f"families below {TARGET}: {', '.join(failures) or 'none'}")


if __name__ == "__main__":
    main()
