"""Trial schedulers that stop weak candidates early: MO-ASHA and its rung bookkeeping."""

from nas.engine.schedulers.ranking import (
    TIE_BREAKS,
    continues,
    crowding_distances,
    hypervolume_contributions,
    pareto_order,
    survivors,
)
from nas.engine.schedulers.rungs import Ladder, RungBook

__all__ = [
    "TIE_BREAKS",
    "Ladder",
    "RungBook",
    "continues",
    "crowding_distances",
    "hypervolume_contributions",
    "pareto_order",
    "survivors",
]
