"""Caps on model size and activation memory, checked before a real model is built.

A valid-looking space can still ask for a model no machine holds (width 16384 at depth
1000, or a 4096-pixel input at batch 128). The validator builds the largest candidate
of each block choice on PyTorch's ``meta`` device (shapes only, no memory, no compute),
with each stage cut to two blocks since the later blocks repeat the second one, and
refuses the space when the parameters or the largest feature map x batch pass the
``limits:`` section's caps. Users with bigger machines raise the caps there.
"""

from __future__ import annotations

from typing import Any

from search_space.errors import describe, did_you_mean, key_name

# ViT-g has 1.0 B parameters; 16 GiB is one large feature map x batch on an 80 GB GPU.
DEFAULT_LIMITS = {"max_params": 1_000_000_000, "max_feature_map_bytes": 16 * 2**30}
LIMIT_CEILING = 2**50  # a raised cap must still be a number torch sizes can hold
DEFAULT_BATCH = 128  # train.batch_size's default (evaluators/config.py)
BYTES_PER_VALUE = 4  # fp32 activations; autocast halves some, never all
# Keys whose smaller value gives the larger model (a smaller stride keeps a larger map).
SMALLER_IS_LARGER = ("stride", "patch")


def parse_limits(raw: Any) -> tuple[dict[str, float], list[str]]:
    """The caps of a ``limits:`` section (defaults for keys it leaves out) and its problems."""
    limits, problems = dict(DEFAULT_LIMITS), []
    if raw is None:
        return limits, problems
    if not isinstance(raw, dict):
        return limits, [f"limits: must be a mapping of caps, got {describe(raw)}"]
    for key, value in raw.items():
        if key not in DEFAULT_LIMITS:
            problems.append(
                f"limits.{key_name(key)}: unknown cap{did_you_mean(key, DEFAULT_LIMITS)}; "
                f"known: {', '.join(DEFAULT_LIMITS)}"
            )
        elif _is_count(value):
            limits[key] = value
        else:
            problems.append(
                f"limits.{key}: {describe(value)} must be a number from 1 to {LIMIT_CEILING:.3g}"
            )
    return limits, problems


def _is_count(value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and 1 <= value <= LIMIT_CEILING
