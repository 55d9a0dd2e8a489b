"""RUN/verify.csv and RUN/verify.json: the front retrained with several seeds, summarised.

verify.csv has one row per (trial, seed) that finished: `nas verify` rewrites it
atomically after every seed, so a killed verify keeps what it completed and a second one
trains only what is missing. verify.json is derived from it each time: per member and
objective the mean, sample standard deviation and 95% Student-t interval of the mean
(nas/runs/intervals.py), and which members the trained objectives cannot tell apart.

Two members are "not distinguishable" on an objective when Welch's t-test gives p >= 0.05
(scipy installed), else when their 95% intervals overlap.

Accuracy lives in [0, 1]: an interval reaching past it (two seeds, far apart) is cut to it
and flagged. A seed that scores far below what the search recorded for the same
architecture (more than 5 of the search score's standard errors, accuracy_se) is named
in `shortfalls`: a training that failed (at chance, or diverged) should not hide inside a
mean.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from nas.console import human
from nas.runs import format as rf
from nas.runs.atomic import write_csv, write_json
from nas.runs.intervals import CONFIDENCE, metric_bounds, t_interval, welch_p

COUNTED = ("flops", "params")  # the same for every seed: no interval to compare
# Shown with intervals whenever every seed has them, compared only when an objective.
CLASS_SCORES = ("accuracy", "balanced_accuracy", "macro_f1")
PERCENT = CLASS_SCORES  # shown as percentages
SIGNIFICANCE = 1 - CONFIDENCE
SHORTFALL_SE = 5.0  # a seed this many standard errors below the search's score failed


def read_rows(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """verify.csv's rows ([] when there is none)."""
    import pandas as pd

    path = Path(run_dir) / rf.VERIFY_CSV
    if not path.is_file():
        return []
    return pd.read_csv(path).to_dict("records")


def write_rows(run_dir: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    import pandas as pd

    table = pd.DataFrame(rows, columns=columns).sort_values(["trial", "seed"])
    write_csv(run_dir / rf.VERIFY_CSV, table)


def summarise(
    rows: list[dict[str, Any]],
    objectives: list[str],
    summaries: dict[int, str],
    searched: dict[int, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """verify.json's document from verify.csv's rows. `searched` holds, per trial, what
    the search recorded (accuracy, accuracy_se, chance_accuracy) for the shortfall check."""
    members = []
    samples: dict[int, dict[str, list[float]]] = {}
    shown = [*objectives, *(n for n in CLASS_SCORES if n not in objectives and _all(rows, n))]
    for trial in sorted({int(r["trial"]) for r in rows}):
        mine = [r for r in rows if int(r["trial"]) == trial]
        samples[trial] = {name: [float(r[name]) for r in mine] for name in shown}
        members.append(
            {
                "trial": trial,
                "summary": summaries.get(trial, ""),
                "seeds": sorted(int(r["seed"]) for r in mine),
                "objectives": {
                    name: t_interval(values, metric_bounds(name)).to_dict()
                    for name, values in samples[trial].items()
                },
                "shortfalls": _shortfalls(mine, (searched or {}).get(trial)),
            }
        )
    if "flops" in objectives:  # the front's order in `nas report`
        members.sort(key=lambda m: m["objectives"]["flops"]["mean"])
    return {
        "confidence": CONFIDENCE,
        "epochs": sorted({int(r["epochs"]) for r in rows}),
        "members": members,
        "indistinguishable": _pairs(samples, [o for o in objectives if o not in COUNTED]),
    }


def _all(rows: list[dict[str, Any]], name: str) -> bool:
    """Whether every row has a number for `name` (rows of older runs lack the class scores)."""
    import math

    return bool(rows) and all(
        isinstance(r.get(name), int | float) and math.isfinite(r[name]) for r in rows
    )


def _shortfalls(rows: list[dict[str, Any]], search: dict[str, float] | None) -> list[dict]:
    """The seeds of one member that scored far below its search score."""
    if not search or search.get("accuracy") is None or not search.get("accuracy_se"):
        return []
    limit = search["accuracy"] - SHORTFALL_SE * search["accuracy_se"]
    chance = search.get("chance_accuracy")
    found = []
    for row in sorted(rows, key=lambda r: int(r["seed"])):
        accuracy = float(row["accuracy"])
        if accuracy < limit:
            at_chance = chance is not None and accuracy <= chance + 0.02
            found.append(
                {
                    "seed": int(row["seed"]),
                    "accuracy": accuracy,
                    "search_accuracy": search["accuracy"],
                    "at_chance": bool(at_chance),
                }
            )
    return found


def _pairs(samples: dict[int, dict[str, list[float]]], compared: list[str]) -> list[dict]:
    pairs = []
    for name in compared:
        for first, second in itertools.combinations(sorted(samples), 2):
            a, b = samples[first][name], samples[second][name]
            overlap = t_interval(a).overlaps(t_interval(b))
            p = welch_p(a, b)
            if (p is not None and p >= SIGNIFICANCE) or (p is None and overlap):
                pairs.append(
                    {"objective": name, "trials": [first, second], "welch_p": p, "overlap": overlap}
                )
    return pairs


def write_summary(run_dir: Path, document: dict[str, Any]) -> Path:
    return write_json(run_dir / rf.VERIFY_JSON, document)


def read_summary(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """verify.json, or None when the run was never verified."""
    import json

    path = Path(run_dir) / rf.VERIFY_JSON
    if not path.is_file() or not (Path(run_dir) / rf.VERIFY_CSV).is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def member_summary(run_dir: str | os.PathLike, trial: int) -> dict[str, Any] | None:
    """One member's entry of verify.json (seeds and per-objective intervals), or None."""
    document = read_summary(run_dir)
    members = (document or {}).get("members", [])
    return next((m for m in members if m["trial"] == trial), None)


def format_summary(document: dict[str, Any]) -> str:
    """The front with its intervals, then one line per pair it cannot tell apart."""
    epochs = "/".join(str(e) for e in document["epochs"])
    lines = [f"verified: {epochs} epoch(s) per seed; mean +/- std [95% t-interval of the mean]"]
    for member in document["members"]:
        cells = [_cell(name, value) for name, value in member["objectives"].items()]
        lines.append(f"  #{member['trial']:<4} {len(member['seeds'])} seeds  " + "  ".join(cells))
    if any(v.get("clipped") for m in document["members"] for v in m["objectives"].values()):
        lines.append(
            "  * interval cut to the metric's range [0, 100]%: too few seeds, or seeds too "
            "far apart, for a t-interval; verify again with more --seeds"
        )
    for member in document["members"]:
        for miss in member.get("shortfalls", []):
            chance = ", at chance level" if miss["at_chance"] else ""
            lines.append(
                f"warning: #{member['trial']} seed {miss['seed']} scored "
                f"{100 * miss['accuracy']:.2f}%{chance}, far below the search's "
                f"{100 * miss['search_accuracy']:.2f}% (more than {SHORTFALL_SE:.0f} standard "
                "errors): a failed training, so this member's mean and interval mix failed "
                "and sound runs; a lower learning rate or more warmup may steady it"
            )
    for pair in document["indistinguishable"]:
        first, second = pair["trials"]
        test = f"Welch p = {pair['welch_p']:.2f}" if pair["welch_p"] is not None else ""
        overlap = "intervals overlap" if pair["overlap"] else "intervals apart"
        reason = "; ".join(t for t in (test, overlap) if t)
        lines.append(
            f"not distinguishable on {pair['objective']}: #{first} and #{second} ({reason})"
        )
    if not document["indistinguishable"] and len(document["members"]) > 1:
        lines.append("every pair of members is distinguishable on the trained objectives")
    return "\n".join(lines)


def _cell(name: str, stats: dict[str, Any]) -> str:
    if name in COUNTED:
        return f"{name} {human(stats['mean'])}"
    scale, unit = (100.0, "%") if name in PERCENT else (1.0, "")
    text = f"{name} {scale * stats['mean']:.2f}{unit} +/- {scale * stats['std']:.2f}"
    if stats["low"] is not None:
        text += f" [{scale * stats['low']:.2f}, {scale * stats['high']:.2f}]"
        text += "*" if stats.get("clipped") else ""
    return text
