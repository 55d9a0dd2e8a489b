"""MO-ASHA as a Ray Tune scheduler: stops trials at rungs by Pareto rank.

Each trial reports once per epoch (``epoch`` plus its metrics, see nas/trial.py). At an
epoch that is one of its bracket's rungs, the scheduler takes the trial's point on the
objectives that are known at that moment (trained metrics from the report, counted ones,
FLOPs and params, from the trial's config, where they are constant) and asks the
`RungBook` whether it continues; a trial told to stop is passed to `on_stop` first, so
the search records it as stopped early rather than lost.

Objectives that are measured only after training (latency, zero-cost proxies) are left
out of the ranking at the rungs; every objective still counts for the final front.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from nas.engine.schedulers.rungs import Ladder, RungBook

# What an epoch report (nas/trial.py) and a trial's config carry.
EPOCH_KEY, PAYLOAD_KEY, COUNTS_KEY, NUMBER_KEY = "epoch", "payload", "counts", "number"


def rung_point(
    names: Sequence[str], config: Mapping[str, Any], result: Mapping[str, Any]
) -> list[float]:
    """The values of metrics `names` for a trial at an epoch report: the report's own
    metrics (its JSON payload included) over the trial's counted ones."""
    values: dict[str, Any] = dict(config.get(COUNTS_KEY) or {})
    if isinstance(result.get(PAYLOAD_KEY), str):
        values.update(json.loads(result[PAYLOAD_KEY]))
    values.update({k: v for k, v in result.items() if k in names})
    return [float(values.get(name, float("nan"))) for name in names]


class MOASHAScheduler(FIFOScheduler):
    """Asynchronous successive halving (optionally Hyperband) ranked by Pareto fronts.

    `names`/`directions` are the metrics ranked at the rungs (as metric keys). A trial is
    identified by its search number (``config["number"]``), which survives a resume.
    """

    def __init__(
        self,
        ladder: Ladder,
        names: Sequence[str],
        directions: Sequence[str],
        *,
        tie_break: str = "crowding",
        on_stop: Callable[[str], None] | None = None,
    ):
        super().__init__()
        self._supports_buffered_results = False  # every epoch report must reach us
        self.names = list(names)
        self.book = RungBook(ladder, list(directions), tie_break)
        self.on_stop = on_stop or (lambda trial_id: None)

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        if EPOCH_KEY not in result or result.get("final"):
            return TrialScheduler.CONTINUE
        number = int(trial.config[NUMBER_KEY])
        point = rung_point(self.names, trial.config, result)
        if self.book.report(number, int(result[EPOCH_KEY]), point):
            return TrialScheduler.CONTINUE
        self.on_stop(trial.trial_id)
        return TrialScheduler.STOP

    def debug_string(self) -> str:
        counts = ", ".join(f"epoch {e}: {n}" for e, n in self.book.counts().items())
        return f"MO-ASHA ({', '.join(self.names)}); recorded at rungs: {counts or 'none'}"

    def __getstate__(self) -> dict:  # Tune may pickle it; the study is the record
        return {}
