"""What a search reports when it ends: its run folder, counts, front and hypervolume."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SearchOutcome:
    run_dir: Path
    storage: str
    study_name: str
    target: int
    decided: int
    finished: bool  # every asked-for trial has an outcome
    counts: dict[str, int] = field(default_factory=dict)
    front: list[dict[str, Any]] = field(default_factory=list)
    hypervolume: float | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "storage": self.storage,
            "study_name": self.study_name,
            "trials": self.target,
            "decided": self.decided,
            "finished": self.finished,
            "counts": self.counts,
            "hypervolume": self.hypervolume,
            "pareto": self.front,
            "seconds": round(self.seconds, 2),
        }
