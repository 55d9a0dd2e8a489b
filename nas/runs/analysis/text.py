"""The analysis documents as the lines `nas analyze` and `nas compare` print."""

from __future__ import annotations

from typing import Any


def _number(value: Any) -> str:
    if value is None:
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.4g}"


def _interval(estimate: dict[str, Any]) -> str:
    if estimate["best"] is None:
        return f"{estimate['budget']}: -"
    se = estimate.get("se")
    noise = f" (se {se:.3f})" if se is not None else ""
    return f"{estimate['budget']}: {estimate['best']:.3f}{noise} n={estimate['count']}"


def group_lines(group: dict[str, Any]) -> list[str]:
    front = ", ".join(
        f"#{r['number']} {r.get('accuracy', 0):.3f}@{_number(r.get('flops'))}"
        for r in group["front"][:6]
    )
    more = f" (+{len(group['front']) - 6})" if len(group["front"]) > 6 else ""
    median = group["median_error"]
    return [
        f"  {group['label']}: {group['complete']} complete, median error "
        f"{'-' if median is None else f'{median:.3f}'}",
        "    best " + "; ".join(_interval(e) for e in group["best"]),
        f"    front {front}{more}",
    ]


def importance_lines(found: dict[str, Any] | None, top: int = 5) -> list[str]:
    if not found:
        return []
    lines = [f"which keys matter ({found['evaluator']}, {found['trials']} complete trials):"]
    for objective, scores in found["objectives"].items():
        ranked = ", ".join(f"{k} {v:.2f}" for k, v in list(scores.items())[:top])
        lines.append(f"  {objective}: {ranked}")
    if found.get("caveat"):
        lines.append(f"  caveat: {found['caveat']}")
    return lines


def winner_text(winners: list[dict[str, Any]], indent: str) -> list[str]:
    """Each budget's winner sentence, then its supporting lines indented below it."""
    lines = []
    for winner in winners:
        lines.append(f"{indent}winner {winner['sentence']}")
        lines += [f"{indent}    {line}" for line in winner.get("details", [])]
    return lines


def render_analysis(document: dict[str, Any]) -> str:
    states = ", ".join(f"{k} {v}" for k, v in document["states"].items())
    lines = [f"{document['trials']} trials ({states}); {document['complete']} eligible"]
    if document.get("noise"):
        lines.append(
            f"noise: {document['noise']['describe']}; each accuracy's standard error is in "
            "trials.csv (accuracy_se)"
        )
    if document["band"]:
        lines.append(f"EDFs restricted to {document['band']}")
    for grouping in document["groupings"]:
        lines.append(f"by {grouping['key']}:")
        for group in grouping["groups"]:
            lines += group_lines(group)
        lines += winner_text(grouping["winners"], "  ")
    lines += importance_lines(document.get("importance"))
    return "\n".join(lines)


def render_comparison(document: dict[str, Any]) -> str:
    reference = ", ".join(
        f"{o['name']}={_number(v)}"
        for o, v in zip(document["objectives"], document["reference_point"])
    )
    lines = [f"runs {', '.join(document['runs'])}; common reference point {reference}"]
    for group in document["groups"]:
        lines += group_lines(group)
        lines.append(f"    hypervolume {group['hypervolume']:.6g}")
    lines += winner_text(document["winners"], "")
    for test in document["tests"]:
        if "statistic" in test:
            lines.append(
                f"errors {test['a']} vs {test['b']}: {test['method']} D={test['statistic']:.3f} "
                f"p={test['p_value']:.3g}"
            )
    return "\n".join(lines)
