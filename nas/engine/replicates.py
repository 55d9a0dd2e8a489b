"""Duplicates become replicates: a re-proposed architecture trains with a fresh seed.

TPE (and any sampler over a finite space) proposes the same architecture again now and
then. Trained again with the run's seed it would repeat the first number to the last
digit: compute spent for nothing. Instead the k-th proposal of an architecture already
proposed (the same YAML, its sampled recipe included, the name and seed aside) trains
with the seed ``train.seed + 1000 * k``, and is recorded with ``replicate_of`` (the first
trial's number) and ``train_seed``. Each replicate is an independent measurement that the
sampler is told as usual and that the noise model counts as a repeated seed of one
architecture (nas/runs/analysis/noise.py). The seeds stay clear of `nas verify`'s
(train.seed + 1 .. + N), so a verify never repeats a replicate.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nas.runs import format as rf

SEED_STEP = 1000  # replicate k trains with train.seed + SEED_STEP * k


def architecture_key(arch_document: dict[str, Any], train: dict[str, Any]) -> str:
    """A short digest of the architecture and its recipe, without its name and seed."""
    arch = {k: v for k, v in arch_document.items() if k != "name"}
    recipe = {k: v for k, v in train.items() if k not in ("seed", "threads", "device")}
    text = json.dumps([arch, recipe], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ReplicateBook:
    """Which architectures the study has proposed: key -> trial numbers, in order."""

    def __init__(self) -> None:
        self.seen: dict[str, list[int]] | None = None  # filled from the study on first use

    def assign(self, trial: Any, key: str, base_seed: int) -> dict[str, Any]:
        """The user attributes of `trial` (arch_key, replicate_of, train_seed); `trial`
        counts as proposed from now on."""
        if self.seen is None:
            self.seen = _read_study(trial.study, trial.number)
        retry_of = trial.user_attrs.get(rf.ATTR_RETRY_OF)
        earlier = self.seen.setdefault(key, [])
        if retry_of is not None and retry_of in earlier:  # an interrupted trial run again
            index = earlier.index(retry_of)
            earlier[index] = trial.number
        else:
            index = len(earlier)
            earlier.append(trial.number)
        attrs: dict[str, Any] = {rf.ATTR_ARCH_KEY: key, rf.ATTR_TRAIN_SEED: base_seed}
        if index > 0:
            attrs[rf.ATTR_REPLICATE_OF] = earlier[0]
            attrs[rf.ATTR_TRAIN_SEED] = base_seed + SEED_STEP * index
        return attrs


def _read_study(study: Any, current: int) -> dict[str, list[int]]:
    """The keys of the study's earlier trials (a resumed search remembers them); trials
    abandoned by a stopped search are left out: their re-run takes their place."""
    seen: dict[str, list[int]] = {}
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        key = trial.user_attrs.get(rf.ATTR_ARCH_KEY)
        if key is None or trial.number == current or trial.user_attrs.get(rf.ATTR_INTERRUPTED):
            continue
        seen.setdefault(key, []).append(trial.number)
    return seen
