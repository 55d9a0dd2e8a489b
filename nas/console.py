"""Console output: `--json` documents on stdout, human text on stderr or stdout."""

from __future__ import annotations

import json
import math
import sys
from typing import Any


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout; non-finite floats become null."""
    json.dump(_finite(document), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def human(value: float, unit: str = "") -> str:
    """1234567 -> '1.23M'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "inf" if value is not None else "-"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}{unit}"
    return f"{value:.4g}{unit}"


def note(message: str) -> None:
    """Progress and remarks: stderr, so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)
