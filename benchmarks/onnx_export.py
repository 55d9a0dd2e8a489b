"""Export time and faithfulness: torch's current ONNX exporter (what `nas export` uses,
``torch.onnx.export(..., dynamo=True)``) against the TorchScript-based one it replaced
(``dynamo=False``, deprecated), on the same models, in the same process.

Models: seeded samples of the bundled `demo` space (what the Quick start exports) and,
with --zoo, small zoo models at their published resolution. For each: seconds to write
the file with either exporter, and the max |onnxruntime - PyTorch| of each file on a
batch of 3 (both are exported with a dynamic batch axis). The first export in a process
pays a one-time set-up of the new exporter (onnxscript's op registry), printed apart;
the times exclude the onnxruntime check `nas export` adds.

    python benchmarks/onnx_export.py [--samples 4] [--zoo resnet18,mobilenetv3_large_100]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import onnxruntime
import torch

from nas.runs.convert import ONNX_OPSET, export_onnx
from search_space import build_model, load_architecture, load_space, sample_architectures

ZOO = Path(__file__).resolve().parents[1] / "search_space" / "zoo"


def legacy_export(model: torch.nn.Module, shape: tuple[int, int, int], path: Path) -> None:
    """The exporter `nas export` used before: TorchScript-based, opset 17."""
    example = torch.randn(2, *shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation warning is the point of the change
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )


def current_export(model: torch.nn.Module, shape: tuple[int, int, int], path: Path) -> None:
    """What nas/runs/convert.py does before its check: dynamo=True, dynamic batch."""
    program = torch.onnx.export(
        model,
        (torch.randn(2, *shape),),
        dynamo=True,
        opset_version=ONNX_OPSET,
        input_names=["input"],
        output_names=["logits"],
        dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
        verbose=False,
    )
    program.save(str(path))


def max_diff(model: torch.nn.Module, shape: tuple[int, int, int], path: Path) -> float:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = torch.randn(3, *shape, generator=torch.Generator().manual_seed(5))
    (ours,) = session.run(None, {"input": inputs.numpy()})
    with torch.inference_mode():
        return float((torch.from_numpy(ours) - model(inputs)).abs().max())


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def models(samples: int, zoo: list[str]) -> list[tuple[str, torch.nn.Module, tuple]]:
    archs = sample_architectures(load_space("demo"), samples, seed=0)
    archs += [load_architecture(ZOO / f"{name}.yaml") for name in zoo]
    found = []
    for arch in archs:
        torch.manual_seed(0)
        shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
        found.append(
            (arch.summary() if arch.name not in zoo else arch.name, build_model(arch).eval(), shape)
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--zoo", default="", help="comma-separated zoo names")
    args = parser.parse_args()
    zoo = [name for name in args.zoo.split(",") if name]
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="onnx-bench-"))
    warm_up = folder / "warm.onnx"
    first = models(1, [])[0]
    print(
        f"one-time set-up of the new exporter (first export): "
        f"{timed(export_onnx, first[1], first[2], warm_up):.1f} s"
    )
    rows = []
    for name, model, shape in models(args.samples, zoo):
        new, old = folder / "new.onnx", folder / "old.onnx"
        t_new = timed(current_export, model, shape, new)
        export_onnx(model, shape, new)  # the check nas export runs passes too
        t_old = timed(legacy_export, model, shape, old)
        rows.append((name, t_new, t_old, max_diff(model, shape, new), max_diff(model, shape, old)))
    print(
        f"{'model':50s} {'new s':>7s} {'old s':>7s} {'ratio':>6s} {'new diff':>9s} {'old diff':>9s}"
    )
    for name, t_new, t_old, d_new, d_old in rows:
        print(
            f"{name[:50]:50s} {t_new:7.2f} {t_old:7.2f} {t_new / t_old:6.1f} "
            f"{d_new:9.1e} {d_old:9.1e}"
        )
    ratio = statistics.median(r[1] / r[2] for r in rows)
    print(f"median export time ratio new/old: {ratio:.1f} (new: opset {ONNX_OPSET}; old: 17)")


if __name__ == "__main__":
    main()
