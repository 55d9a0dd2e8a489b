"""`nas zoo [NAME] [--timm-weights FILE [--arch ARCH] --output OUT]`: the published
architectures, and timm weights for any architecture of a supported family.

With no NAME, lists every zoo model with its paper, params and FLOPs. With NAME, prints
its file and per-stage summary. With --timm-weights, converts a local timm safetensors
checkpoint into weights for the architecture --arch (your own file, or a zoo name;
NAME when --arch is left out) and checks them by a strict load (nothing is downloaded;
the checkpoint is read with safetensors, never unpickled).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from evaluators.flops import count_arch_flops
from nas.console import human, print_json
from search_space import SpaceError, build_model, count_params, load_architecture
from search_space.loader import BUNDLED_DIRS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("zoo", help="the zoo of published architectures")
    parser.add_argument("name", nargs="?", help="a zoo model (omit to list them all)")
    parser.add_argument("--timm-weights", type=Path, help="a timm safetensors checkpoint")
    parser.add_argument(
        "--arch", help="the architecture the weights are for: your YAML file or a zoo name"
    )
    parser.add_argument("--output", type=Path, help="where to write the converted weights")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.timm_weights is not None or args.output is not None or args.arch is not None:
        document = convert(args.arch or args.name, args.timm_weights, args.output)
    elif args.name is None:
        document = {"models": [describe(name) for name in zoo_names()]}
    else:
        document = describe(args.name)
    if args.json:
        print_json(document)
    else:
        _print(document)
    return 0


def zoo_names() -> list[str]:
    return sorted(path.stem for path in BUNDLED_DIRS["zoo"].glob("*.yaml"))


def paper(name: str) -> str:
    """The first comment line of the zoo file: the network and its paper."""
    first = (BUNDLED_DIRS["zoo"] / f"{name}.yaml").read_text().splitlines()[0]
    return first.lstrip("# ").rstrip(":")


def describe(name: str) -> dict:
    from search_space.timm_names import TIMM_NAMES

    if name not in zoo_names():
        raise SpaceError(f"{name!r} is not a zoo model; choose one of {', '.join(zoo_names())}")
    arch = load_architecture(name)
    model = build_model(arch).eval()
    return {
        "name": name,
        "file": str(BUNDLED_DIRS["zoo"] / f"{name}.yaml"),
        "paper": paper(name),
        "timm": TIMM_NAMES.get(name),
        "summary": arch.summary(),
        "params": count_params(model),
        "flops": count_arch_flops(model, arch)["flops"],
    }


def convert(arch_source: str | None, source: Path | None, output: Path | None) -> dict:
    """Converts `source` (timm safetensors) into `output`: weights for the architecture
    `arch_source` (a file or zoo name), checked by a strict load."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, save_file

    from search_space.timm_names import convert_timm_state_dict

    if arch_source is None or source is None or output is None:
        raise SpaceError(
            "converting needs --timm-weights FILE, --arch MY.yaml (or a zoo NAME) "
            "and --output OUT.safetensors"
        )
    if not source.is_file():
        raise SpaceError(f"--timm-weights: no such file {source}")
    arch = load_architecture(arch_source)
    if output.is_dir():  # checked before the (long) conversion
        raise SpaceError(
            f"--output {output}: is a folder; name the file, e.g. {output}/{arch.name}.safetensors"
        )
    try:
        theirs = load_file(source)
    except (SafetensorError, OSError) as error:
        raise SpaceError(f"--timm-weights: {source} is not a safetensors file ({error})") from None
    ours = convert_timm_state_dict(arch, theirs)
    with torch.device("meta"):  # the strict load checks names and shapes, no memory
        build_model(arch).load_state_dict(ours, strict=True, assign=True)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        save_file({key: value.contiguous() for key, value in ours.items()}, output)
    except (OSError, SafetensorError) as error:
        why = getattr(error, "strerror", None) or str(error).splitlines()[0]
        raise SpaceError(
            f"--output {output}: cannot be written ({why}); name a file you may write"
        ) from None
    count = sum(v.numel() for v in ours.values() if torch.is_floating_point(v))
    return {
        "name": arch.name,
        "source": str(source),
        "output": str(output),
        "tensors": len(ours),
        "values": count,
    }


def _print(document: dict) -> None:
    if "models" in document:
        print(f"{'model':<32} {'params':>12} {'FLOPs':>9}  paper")
        for row in document["models"]:
            flops = human(row["flops"])
            print(f"{row['name']:<32} {row['params']:>12,} {flops:>9}  {row['paper']}")
    elif "output" in document:
        print(f"{document['name']}: wrote {document['tensors']} tensors to {document['output']}")
    else:
        print(f"{document['name']}: {document['paper']}")
        print(f"file: {document['file']}")
        print(f"timm model: {document['timm']}")
        print(f"{document['summary']}")
        print(f"{document['params']:,} params, {human(document['flops'])} FLOPs at its input size")
