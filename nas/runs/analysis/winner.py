"""The winner call per budget: which group's best is better, and whether the data can say.

Two stages, and the line says which one it rests on:

1. untested (the search's scores only). Each group's best architecture on validation,
   with a noise-aware interval of the difference: sqrt(se_A**2 + se_B**2), each se from
   the seed noise (measured or assumed) and the binomial noise of the validation split
   (nas/runs/noise.py). The best of several noisy scores reads high (the winner's curse)
   and this interval does not correct it, so the line never says "clear win"; it says
   "untested: single-seed scores" and names the retraining that would test it.
2. tested (`nas verify --winners` has retrained the candidates on fresh seeds and scored
   them on the test split, which the search never trained or selected on). The groups'
   champions, fixed on validation before the retraining, are compared on the test images
   (nas/runs/analysis/tested.py: seeds as replicates, images paired). Fresh seeds and
   fresh images remove the winner's curse from the difference.

A clear win needs the test interval to exclude zero in the validation leader's favour
*and* the labels to matter: a permutation test of the groups' labels over the search's
architectures (nas/runs/analysis/permutation.py) at p < 0.05. Otherwise the champions may
differ while the design choice does not explain it (which architectures the search
happened to draw for each group), and the line says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nas.runs.analysis.evidence import Evidence
from nas.runs.analysis.permutation import label_permutation_p
from nas.runs.analysis.tested import Z_975, compare_on_test, sample_size
from nas.runs.analysis.units import Unit, candidates, units_of
from nas.runs.noise import BINOMIAL, FROM_CONFUSION

SIGNIFICANCE = 0.05
DEFAULT_SEEDS = 3  # what `nas verify --winners` retrains with unless told


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def call_winner(
    groups: dict[str, pd.DataFrame], evidence: Evidence, budget: str, seed: int = 0
) -> dict[str, Any]:
    """The call for one budget over the groups' rows within it (eligible trials)."""
    units = {label: units_of(rows, evidence.seed) for label, rows in sorted(groups.items())}
    units = {label: found for label, found in units.items() if found}
    ranked = sorted(units, key=lambda k: (-units[k][0].mean, k))
    base: dict[str, Any] = {"budget": budget, "clear": False, "seed_noise": evidence.seed.to_dict()}
    if len(ranked) < 2:
        status = "one group" if ranked else "no trials"
        sentence = (
            f"{budget}: only {ranked[0]} has trials under this budget"
            if ranked
            else f"{budget}: no group has a complete trial under this budget"
        )
        winner = ranked[0] if ranked else None
        found = {"status": status, "winner": winner, "runner_up": None}
        return {**base, **found, "sentence": sentence, "details": []}
    first, second = ranked[:2]
    a, b = units[first][0], units[second][0]
    chosen = {label: [u.number for u in candidates(found)] for label, found in units.items()}
    permutation = label_permutation_p(
        np.array([u.mean for u in units[first]]), np.array([u.mean for u in units[second]]), seed
    )
    recorded = all("val_images" in rows.columns for rows in groups.values())
    methods = {rows.attrs.get("se_eval_method", BINOMIAL) for rows in groups.values()}
    method = next((m for m in methods if m != FROM_CONFUSION and m != BINOMIAL), None)
    method = method or (FROM_CONFUSION if FROM_CONFUSION in methods else BINOMIAL)
    call = {
        **base,
        "winner": first,
        "runner_up": second,
        "champions": [a.number, b.number],
        "sizes": [len(units[first]), len(units[second])],
        "candidates": chosen,
        "validation": {
            **_validation(a, b),
            "val_images_recorded": recorded,
            "eval_method": method,
        },
        "permutation_p": permutation,
    }
    tables = evidence.tests
    if (
        a.number in tables
        and b.number in tables
        and min(len(tables[a.number]), len(tables[b.number])) >= 2
    ):
        return _tested(call, a, b, first, second, evidence, chosen)
    return _untested(call, a, b, first, second, evidence, chosen)


def _validation(a: Unit, b: Unit) -> dict[str, float]:
    difference = a.mean - b.mean
    se = math.hypot(a.se, b.se)
    return {
        "difference": difference,
        "se": se,
        "low": difference - Z_975 * se,
        "high": difference + Z_975 * se,
        "best": [a.mean, b.mean],
        "seeds": [a.seeds, b.seeds],
        "val_images": min(a.val_images, b.val_images),
    }


def _untested(
    call: dict[str, Any], a: Unit, b: Unit, first: str, second: str, evidence: Evidence,
    chosen: dict[str, list[int]],
) -> dict[str, Any]:  # fmt: skip
    val = call["validation"]
    budget = call["budget"]
    sentence = (
        f"{budget}: untested: single-seed scores. {first} (best #{a.number}, "
        f"{100 * a.mean:.2f}%) leads {second} (best #{b.number}, {100 * b.mean:.2f}%) by "
        f"{_points(val['difference'])} points{_of(evidence)} on validation; 95% interval "
        f"{_points(val['low'])} to {_points(val['high'])} points from seed and evaluation "
        "noise, not corrected for selection: no claim either way"
    )
    n_val = val["val_images"]
    assumed = "" if val["val_images_recorded"] else " (not recorded by this run: assumed)"
    details = [
        f"noise: {evidence.seed.describe()}; {n_val:,} validation images{assumed} "
        f"(evaluation SE {100 * a.se_eval:.2f} points at {100 * a.mean:.1f}%, "
        f"{val['eval_method']})",
        _labels_line(call),
    ]
    retrain = sorted(n for label in (first, second) for n in chosen[label])
    if evidence.command:
        details.append(
            f"to test it: {evidence.command} (retrains #{', #'.join(map(str, retrain))}, the "
            f"candidates within noise of each group's best, on {DEFAULT_SEEDS} fresh seeds, "
            "and scores them on the test split the search never saw)"
        )
    missing = [f"#{u.number}" for u in (a, b) if u.number not in evidence.tests]
    if evidence.tests and missing:
        details.append(f"retrained, but not {' and '.join(missing)} with two seeds or more")
    found = {"status": "untested", "difference": val["difference"], "low": val["low"]}
    found.update(high=val["high"], test=None, sentence=sentence, details=details)
    return {**call, **found}


def _of(evidence: Evidence) -> str:
    """ " of balanced_accuracy" where the compared score is not plain accuracy."""
    score = evidence.seed.score
    return "" if score == "accuracy" else f" of {score}"


def _labels_line(call: dict[str, Any]) -> str:
    p = call["permutation_p"]
    sizes = call["sizes"]
    return (
        f"labels: a lead this large or larger comes with random labels with p = {p:.3g} "
        f"({sizes[0]} and {sizes[1]} architectures; p < {SIGNIFICANCE} needed to credit the "
        "design choice rather than which architectures the search drew)"
    )


def _tested(
    call: dict[str, Any], a: Unit, b: Unit, first: str, second: str, evidence: Evidence,
    chosen: dict[str, list[int]],
) -> dict[str, Any]:  # fmt: skip
    tables = evidence.tests
    others = [
        tables[n]
        for label in (first, second)
        for n in chosen[label]
        if n in tables and n not in (a.number, b.number)
    ]
    result = compare_on_test(tables[a.number], tables[b.number], others)
    size = sample_size(result)
    labels_matter = call["permutation_p"] is not None and call["permutation_p"] < SIGNIFICANCE
    clear = result.low > 0 and labels_matter
    tested_on = "" if evidence.tested_on == "accuracy" else f" of {evidence.tested_on}"
    interval = (
        f"{_points(result.difference)} points{tested_on} on {result.images:,} held-out test "
        "images "
        f"(95% interval {_points(result.low)} to {_points(result.high)}; "
        f"{result.seeds[0]} and {result.seeds[1]} fresh seeds)"
    )
    budget = call["budget"]
    if clear:
        sentence = (
            f"{budget}: {first} wins: its best model #{a.number} beats {second}'s #{b.number} "
            f"by {interval}, and random labels rarely give such a lead "
            f"(p = {call['permutation_p']:.3g}): a clear win"
        )
    elif result.clear and result.low > 0:
        sentence = (
            f"{budget}: no clear winner between the groups: {first}'s #{a.number} beats "
            f"{second}'s #{b.number} by {interval}, but random labels give such a lead with "
            f"p = {call['permutation_p']:.3g}: a difference between these two models, not "
            f"yet between {first} and {second}"
        )
    elif result.clear:
        sentence = (
            f"{budget}: no clear winner: {second}'s #{b.number} beats {first}'s #{a.number} on "
            f"the test split although {first} led on validation ({interval}, {first} minus "
            f"{second}): the validation lead was noise"
        )
    else:
        sentence = (
            f"{budget}: no clear winner: {first}'s #{a.number} and {second}'s #{b.number} "
            f"differ by {interval}, {first} minus {second}: zero is within the interval"
        )
    details = [
        f"interval width: {result.seed_share:.0%} seed noise, {1 - result.seed_share:.0%} "
        f"evaluation noise ({result.df:.0f} degrees of freedom); selection corrected: the "
        f"champions were fixed on the {call['validation']['val_images']:,} validation images "
        f"and compared on fresh seeds and {result.images:,} test images the search never saw",
        _labels_line(call),
        _hint(size, result),
    ]
    if evidence.tested_on != evidence.seed.score:
        details.append(_tested_on_line(evidence))
    found = {"status": "tested", "clear": clear, "difference": result.difference}
    found["tested_on"] = evidence.tested_on
    found.update(low=result.low, high=result.high, test=result.to_dict())
    found.update(sample_size=size.__dict__, sentence=sentence, details=details)
    return {**call, **found}


def _tested_on_line(evidence: Evidence) -> str:
    score = evidence.seed.score
    if score == "balanced_accuracy":
        return (
            "tested on accuracy, not balanced_accuracy: verify.csv was written before `nas "
            "verify` recorded the test images' classes; rerun it to test the search's score"
        )
    return (
        f"tested on accuracy: {score} does not split into per-image scores, so the "
        "paired test comparison cannot be made on it"
    )


def _hint(size: Any, result: Any) -> str:
    now = (
        f"with {min(result.seeds)} seeds and {result.images:,} test images the smallest "
        f"difference resolved at 80% power is {100 * size.resolvable_now:.2f} points"
    )
    if size.difference < 1e-4:
        return now
    if size.difference >= size.resolvable_now:
        return f"{now}: the {100 * size.difference:.2f} points found are within that reach"
    ways = []
    if size.seeds_needed is not None:
        ways.append(f"{size.seeds_needed} seeds per model at {result.images:,} test images")
    if size.images_needed is not None:
        ways.append(f"{size.images_needed:,} test images at {min(result.seeds)} seeds")
    way = " or ".join(ways) if ways else "more seeds and more test images together"
    return f"{now}; {100 * size.difference:.2f} points would need {way}"


def winner_calls(
    groups: dict[str, pd.DataFrame],
    budgets: Sequence[Any],
    values: Any,
    evidence: Evidence,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One call per budget; `values(rows, budget)` gives the rows within it."""
    return [
        call_winner({k: values(t, b) for k, t in groups.items()}, evidence, _name(b), seed)
        for b in budgets
    ]


def _name(budget: Any) -> str:
    return str(budget) if budget is not None else "any budget"
