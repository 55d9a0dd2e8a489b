"""The one exception type a user can cause, and a "did you mean" helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SpaceError(Exception):
    """A problem in a space or architecture file, or in a user's request.

    Holds one or more problems; each is printed on its own line by the command line,
    which exits with code 2.
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def did_you_mean(word: object, known: Iterable[str]) -> str:
    """Returns ' (did you mean 'x'?)' when `word` is close to one of `known`, else ''."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def one_of(known: Iterable[object]) -> str:
    """Formats the allowed values for an error message."""
    return "one of " + ", ".join(repr(k) for k in known)
