"""What a search reports when it ends: its run folder, counts, front and hypervolume."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas.runs.storage_url import redact_url


@dataclass
class SearchOutcome:
    run_dir: Path
    storage: str
    study_name: str
    target: int
    decided: int
    finished: bool  # every asked-for trial has an outcome
    counts: dict[str, int] = field(default_factory=dict)  # trials by table state
    retried: int = 0  # trials whose dead worker was started again
    front: list[dict[str, Any]] = field(default_factory=list)
    hypervolume: float | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "storage": redact_url(self.storage),  # printed by --json: no password
            "study_name": self.study_name,
            "trials": self.target,
            "decided": self.decided,
            "finished": self.finished,
            "counts": self.counts,
            "retried": self.retried,
            "hypervolume": self.hypervolume,
            "pareto": self.front,
            "seconds": round(self.seconds, 2),
        }
