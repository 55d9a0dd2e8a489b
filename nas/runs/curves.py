"""Per-epoch learning curves where users look for them.

- The study (optuna-dashboard): a multi-objective study cannot take `trial.report`, so
  the curves go in the trial's `history` user attribute, compact: one list per metric,
  `{"epoch": [1, 2, 3], "accuracy": [0.41, 0.62, 0.7], "loss": [...]}`, floats rounded
  to 4 significant digits, so the dashboard's trial page stays narrow. The full records
  stay in trials/<n>/metrics.json.
- TensorBoard: one event folder per trial, RUN/tensorboard/trial_<n>/, written by the
  search's driver from the results it receives (no file system shared with the workers
  needed), so `tensorboard --logdir RUN/tensorboard` shows every trial.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nas.runs import format as rf

_DIGITS = 4  # significant digits kept in the study attribute


def _rounded(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not math.isfinite(value):
        return None  # strict JSON
    if float(value).is_integer() and abs(value) < 2**53:
        return int(value)  # epochs arrive as 1.0, 2.0, ...
    return float(f"{value:.{_DIGITS}g}")


def as_stored(value: float) -> float:
    """`value` at the precision the study's history keeps (4 significant digits)."""
    found = _rounded(float(value))
    return float("nan") if found is None else float(found)


def compact_history(history: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """[{"epoch": 1, "accuracy": .41, ...}, ...] -> {"epoch": [1, ...], "accuracy": [.41, ...]}.

    Numbers only; a metric missing from an epoch is None there, so every list has one
    entry per epoch."""
    names: dict[str, None] = {}
    for record in history:
        names.update((k, None) for k, v in record.items() if isinstance(v, int | float))
    return {name: [_rounded(record.get(name)) for record in history] for name in names}


def expand_history(history: Any) -> list[dict[str, Any]]:
    """Either form of the attribute (compact, or the per-epoch records of older runs) as
    per-epoch records."""
    if isinstance(history, list):
        return [dict(h) for h in history if isinstance(h, Mapping)]
    if not isinstance(history, Mapping) or not history:
        return []
    length = max(len(v) for v in history.values() if isinstance(v, list))
    return [
        {k: v[i] for k, v in history.items() if isinstance(v, list) and i < len(v)}
        for i in range(length)
    ]


def write_tensorboard(
    run_dir: str | os.PathLike, number: int, history: Sequence[Mapping[str, Any]]
) -> Path | None:
    """Writes each numeric metric of each epoch as a scalar `<metric>` at step `epoch`
    under RUN/tensorboard/trial_<number>/; None when there is nothing to write."""
    records = [r for r in history if isinstance(r.get("epoch"), int | float)]
    if not records:
        return None
    from torch.utils.tensorboard import SummaryWriter

    folder = Path(run_dir) / rf.TENSORBOARD_DIR / f"trial_{number}"
    writer = SummaryWriter(log_dir=str(folder))
    try:
        for record in records:
            step = int(record["epoch"])
            for name, value in record.items():
                if name != "epoch" and isinstance(value, int | float) and math.isfinite(value):
                    writer.add_scalar(name, float(value), global_step=step)
    finally:
        writer.close()
    return folder
