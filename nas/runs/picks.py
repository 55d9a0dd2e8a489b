"""Which trials `nas export` writes: ``pareto`` (every front model), ``knee`` (the front's
knee), ``best-accuracy``, or trial numbers; ``max_flops`` limits the named picks."""

from __future__ import annotations

from typing import Any

from nas.console import human
from nas.runs import format as rf
from nas.runs.pareto import knee_point
from nas.runs.results import RunResults
from search_space.errors import SpaceError, did_you_mean

PICKS = ("pareto", "knee", "best-accuracy")


def select_trials(
    results: RunResults, picks: list[str], max_flops: float | None = None
) -> list[int]:
    """Trial numbers for `picks` (words and numbers, in order, without repeats)."""
    words = [w.strip() for pick in picks for w in str(pick).split(",") if w.strip()]
    chosen: list[int] = []
    for word in words or ["pareto"]:
        numbers = _pick(results, word.lower(), max_flops)
        chosen += [n for n in numbers if n not in chosen]
    return chosen


def _pick(results: RunResults, word: str, max_flops: float | None) -> list[int]:
    if word.lstrip("-").isdigit():
        return [_explicit_trial(results, int(word), max_flops)]
    if word not in PICKS:
        raise SpaceError(
            f"--pick: unknown pick {word!r}{did_you_mean(word, PICKS)}; use "
            f"{', '.join(PICKS)} or trial numbers"
        )
    front = _under(results.front, max_flops)
    if word == "pareto":
        numbers = [int(n) for n in front["number"]]
    elif word == "knee":
        names = [o.name for o in results.objectives]
        index = knee_point(front[names].to_numpy(), [o.direction for o in results.objectives])
        numbers = [] if index is None else [int(front["number"].iloc[index])]
    else:
        numbers = _best_accuracy(results, max_flops)
    if not numbers:
        limit = f" with at most {human(max_flops)} FLOPs" if max_flops is not None else ""
        raise SpaceError(
            f"--pick {word}: no complete trial{limit} to export ({_counts_text(results)})"
        )
    return numbers


def _explicit_trial(results: RunResults, number: int, max_flops: float | None) -> int:
    table = results.table
    rows = table[table["number"] == number]
    if rows.empty:
        span = f"0 to {int(table['number'].max())}" if len(table) else "none"
        raise SpaceError(f"--pick {number}: this run has no trial {number} (trials: {span})")
    row = rows.iloc[0]
    if row["state"] != rf.COMPLETE:
        why = f": {row['error']}" if isinstance(row.get("error"), str) else ""
        raise SpaceError(
            f"--pick {number}: trial {number} is {row['state'].replace('_', ' ')}, "
            f"not complete, so it has no trained model to export{why}"
        )
    if max_flops is not None and "flops" in row and row["flops"] > max_flops:
        raise SpaceError(
            f"--pick {number}: trial {number} has {human(row['flops'])} FLOPs, "
            f"above --max-flops {human(max_flops)}"
        )
    return number


def _under(table: Any, max_flops: float | None) -> Any:
    if max_flops is None:
        return table
    if "flops" not in table.columns:
        raise SpaceError("--max-flops: this run recorded no FLOPs")
    return table[table["flops"] <= max_flops]


def _best_accuracy(results: RunResults, max_flops: float | None) -> list[int]:
    table = results.table
    if "accuracy" not in table.columns:
        raise SpaceError("--pick best-accuracy: this run recorded no accuracy")
    complete = _under(table[(table["state"] == rf.COMPLETE) & table["accuracy"].notna()], max_flops)
    if complete.empty:
        return []
    ties = ["flops"] if "flops" in complete.columns else []
    best = complete.sort_values(
        ["accuracy", *ties, "number"], ascending=[False, *[True] * len(ties), True], kind="stable"
    )
    return [int(best["number"].iloc[0])]


def _counts_text(results: RunResults) -> str:
    return (
        ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in results.counts().items() if n)
        or "no trials"
    )
