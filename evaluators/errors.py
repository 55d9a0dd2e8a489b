"""Exceptions raised by evaluators.

A user's mistake (unknown dataset, missing root, bad config key) is a
``search_space.errors.SpaceError``; the command line prints it in one line and exits 2.
The exceptions here are about a candidate or the counting itself, not the user's input.
"""

from __future__ import annotations


class TrainingFailed(RuntimeError):
    """A trial that cannot produce a score, e.g. its loss became NaN or infinite.

    The message says where (epoch and step) and why, so that the search can record
    it as the trial's failure reason instead of a silent NaN score.
    """


class UncountedOpError(RuntimeError):
    """The FLOP counter met an op with matrix-product cost that it has no handle for.

    Raised instead of counting it as 0: a silently missing matmul would make a
    candidate look cheaper than it is.
    """
