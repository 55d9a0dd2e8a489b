"""What an export folder says about its model: metrics.json's provenance (data split,
recipe, versions) and README.md, a short model card."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from nas.console import human
from nas.runs import format as rf


def split_text(data: Any) -> str:
    if data.validation == "test":
        return f"{data.name}'s own test split"
    share = (
        "the dataset's default share" if data.val_fraction is None else f"{data.val_fraction:.0%}"
    )
    # elpv has no official split: its shares are drawn within each (probability, type) group
    how = "seeded and stratified" if data.name == "elpv" else "seeded permutation"
    return (
        f"{share} of {data.name}'s training images held out, {how} "
        f"(split_seed {data.split_seed}); the search never trains on them"
    )


def versions() -> dict[str, str | None]:
    """Installed versions, read from package metadata (nothing is imported)."""
    names = {
        "torch": "torch",
        "optuna": "optuna",
        "ray": "ray",
        "nas-vision": "nas-vision",
        "safetensors": "safetensors",
        "onnx": "onnx",
        "onnxruntime": "onnxruntime",
        "onnxscript": "onnxscript",
    }
    found: dict[str, str | None] = {}
    for key, name in names.items():
        try:
            found[key] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[key] = None
    import platform

    found["python"] = platform.python_version()
    return found


def _class_rows(metrics: dict[str, Any]) -> list[str]:
    names = {"balanced_accuracy": "balanced accuracy", "macro_f1": "macro F1"}
    return [
        f"| {label} | {100 * metrics[key]:.2f}% on the same images |"
        for key, label in names.items()
        if metrics.get(key) is not None
    ]


def confusion_lines(confusion: list[list[int]] | None, names: list[str] | None) -> list[str]:
    """A Markdown confusion matrix (rows: true class, columns: predicted), after a blank
    line; nothing without one."""
    if not confusion:
        return []
    labels = list(names or []) + [str(i) for i in range(len(names or []), len(confusion))]
    lines = [
        "",
        "Confusion matrix on the validation split (rows: true class, columns: predicted):",
        "",
        "| true class | " + " | ".join(labels[: len(confusion)]) + " |",
        "| --- |" + " ---: |" * len(confusion),
    ]
    for label, row in zip(labels, confusion):
        lines.append(f"| {label} | " + " | ".join(str(int(v)) for v in row) + " |")
    return lines


def model_card(metrics: dict[str, Any], folder: Path) -> str:
    """README.md of an export folder."""
    checks = metrics["checks"]
    accuracy = metrics["accuracy"]
    accuracy_text = "-" if accuracy is None else f"{100 * accuracy:.2f}%"
    onnx = checks.get("onnx") or {}
    preprocess = checks.get("preprocess") or {}
    shape = metrics["input"]
    lines = [
        f"# {metrics['name']} (trial {metrics['trial']})",
        "",
        f"`{metrics['summary']}`",
        "",
        "| | |",
        "| --- | --- |",
        f"| top-1 accuracy | {accuracy_text} on the {metrics['dataset']['split']} split of "
        f"{metrics['dataset']['name']} ({metrics['accuracy_source']}) |",
        *_class_rows(metrics),
        f"| FLOPs | {human(metrics['flops'] or 0)} ({metrics['flop_convention']}) |",
        f"| parameters | {human(metrics['params'] or 0)} |",
    ]
    if metrics.get("latency_ms") is not None:
        lines.append(
            f"| latency | {metrics['latency_ms']:.3g} ms (batch 1, measured in the search) |"
        )
    lines += [
        f"| input | ({shape['channels']}, {shape['resolution']}, {shape['resolution']}), "
        f"{shape['classes']} classes |",
        f"| training | {metrics['train'].get('epochs')} epochs, "
        f"{metrics['train'].get('optimizer')} lr {metrics['train'].get('lr')}, "
        f"seed {metrics['seed']} |",
        "",
        "## Load it",
        "",
        "```python",
        "import nas",
        f'model = nas.load_model("{folder}")  # eval mode, CPU',
        "logits = model(images)  # float32 (N, C, H, W), preprocessed as below",
        "```",
        "",
        f"Preprocessing: {preprocess.get('input', 'as in training')}"
        + (f", mean {preprocess['mean']}, std {preprocess['std']}." if preprocess else "."),
        "",
        f"Validation split: {metrics['dataset']['split_description']}.",
        *confusion_lines(metrics.get("confusion"), metrics.get("class_names")),
    ]
    if onnx:
        diff = onnx.get("max_abs_diff")
        lines += [
            "",
            f"`{rf.ONNX_FILE}` (opset {onnx['opset']}, dynamic batch): input `input`, "
            "output `logits`"
            + (f"; onnxruntime matches PyTorch within {diff:.1g}." if diff is not None else "."),
        ]
    program = (metrics.get("checks") or {}).get("pt2")
    if program:
        lines += [
            "",
            f"`{rf.PT2_FILE}` (torch.export, dynamic batch): "
            f"`torch.export.load('{rf.PT2_FILE}').module()`; matches PyTorch within "
            f"{program['max_abs_diff']:.1g}. Loading a .pt2 file unpickles it: load only "
            "files you trust.",
        ]
    lines += [
        "",
        "Files: `arch.yaml` (architecture and recipe; `nas info arch.yaml`), "
        "`weights.safetensors`, `metrics.json` (every number above, versions, checks).",
        "",
    ]
    return "\n".join(lines)
