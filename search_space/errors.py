"""The one exception type a user can cause, and a "did you mean" helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any


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


def known_settings(
    mapping: Any, known: Iterable[str], path: str
) -> tuple[list[tuple[str, Any]], list[str]]:
    """Splits a settings section (`data:`, `train:`, `search:`) into its (key, value) pairs
    with a known key and one problem line per unknown key, with a "did you mean"."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, Mapping):
        raise SpaceError(f"{path}: expected a mapping of settings, got {mapping!r}")
    known = list(known)
    items, problems = [], []
    for key, value in mapping.items():
        if key in known:
            items.append((key, value))
        else:
            problems.append(
                f"{path}.{key}: unknown setting{did_you_mean(key, known)}; "
                f"known: {', '.join(known)}"
            )
    return items, problems


def describe(value: object, limit: int = 40) -> str:
    """A value as the user wrote it in YAML (null, true, 'text', 1e+300, a list), never a
    Python repr, and cut short so a huge value cannot flood a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return f"{value:g}"
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        # str() of a huge int is refused by Python (and slow): give its size instead.
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return repr(text)
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} values"
    if isinstance(value, dict):
        return "a mapping"
    return f"a value of type {type(value).__name__}"


def key_name(key: object) -> str:
    """A mapping key for a key path: text as written; YAML's other scalars (1, null, and
    true from an unquoted yes/on) as YAML spells them."""
    return key[:40] if isinstance(key, str) else describe(key)
