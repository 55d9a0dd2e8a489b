"""`search.repeats: skip`: a proposal that repeats an earlier architecture is not a query.

In a search whose objectives are all counted or looked up, scoring an architecture a
second time tells nothing new: TPE, which converges, would otherwise spend a quarter of
its NAS-Bench-201 queries on cells it has already seen. With ``skip``, each trial gets a
key (``repeat_key``) shared by equivalent architectures: on a table the table's own
notion (NB201: isomorphic cells, which compute the same function), else the exact
architecture. A trial whose key an earlier trial had is a repeat: it is recorded as
usual (the sampler learns from it), marked ``repeat_of`` the first one, and neither
counts towards ``--trials`` nor stands on the front.

A sampler can propose nothing but repeats (converged, or the space used up): after
`LIMIT` repeats in a row, repeats count towards ``--trials`` again, so the search ends.
"""

from __future__ import annotations

from typing import Any

from nas.runs import format as rf

LIMIT = 1000  # repeats in a row after which they count again


class RepeatBook:
    """Equivalence key -> the first trial that had it, and the current run of repeats."""

    def __init__(self) -> None:
        self.first: dict[str, int] | None = None  # filled from the study on first use
        self.in_a_row = 0

    @property
    def exhausted(self) -> bool:
        return self.in_a_row >= LIMIT

    def assign(self, trial: Any, key: str) -> dict[str, Any]:
        """The user attributes of `trial`: its repeat_key, and repeat_of for a repeat
        that does not count (none once `LIMIT` repeats came in a row)."""
        if self.first is None:
            self.first = _read_study(trial.study, trial.number)
        attrs: dict[str, Any] = {rf.ATTR_REPEAT_KEY: key}
        first = self.first.setdefault(key, trial.number)
        if first == trial.number:
            self.in_a_row = 0
            return attrs
        self.in_a_row += 1
        if self.in_a_row == LIMIT:
            from nas.console import note

            note(
                f"nas search: the sampler proposed {LIMIT:,} repeats in a row (it has "
                f"converged, or the space is used up): repeats count towards --trials from "
                f"here on"
            )
        if not self.exhausted:
            attrs[rf.ATTR_REPEAT_OF] = first
        return attrs


def _read_study(study: Any, current: int) -> dict[str, int]:
    """The keys of the study's earlier trials (a resumed search remembers them)."""
    first: dict[str, int] = {}
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        key = trial.user_attrs.get(rf.ATTR_REPEAT_KEY)
        if key is None or trial.number == current or trial.user_attrs.get(rf.ATTR_INTERRUPTED):
            continue
        first.setdefault(key, trial.number)
    return first
