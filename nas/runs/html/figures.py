"""Plotly figures of a run as plain dicts (no plotly Python objects: faster to build, and
the JSON is exactly what the page hands to plotly.js).

The front matches plots/pareto.png: FLOPs on a log x axis, accuracy up. Hover shows the
trial, accuracy, FLOPs, params and the one-line architecture (nothing else: a long
hover label is one plotly drops).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from nas.runs.html.axes import accuracy_range, flops_budgets, log_ticks

_HOVER = (
    "trial %{customdata[0]}<br>accuracy %{y:.4f}<br>FLOPs %{x:.4s}"
    "<br>params %{customdata[1]:.4s}<br>%{customdata[2]}<extra></extra>"
)
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def _layout(
    title: str, x: str, y: str, log_x: bool = False, x_values: Any = (), **extra: Any
) -> dict[str, Any]:
    xaxis: dict[str, Any] = {"title": {"text": x}, "type": "log" if log_x else "linear"}
    if log_x:
        xaxis.update(log_ticks(list(x_values)))
    return {
        # The title sits above the plot area, clear of plotly's toolbar (top right).
        "title": {
            "text": title,
            "font": {"size": 14},
            "x": 0.01,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
        },
        "xaxis": xaxis,
        "yaxis": {"title": {"text": y}},
        "hovermode": "closest",
        "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
        **extra,
    }


def _points(rows: pd.DataFrame, name: str, score: str, **style: Any) -> dict[str, Any]:
    """The rows as markers; their `accuracy` column holds `score`, which the hover names."""
    params = rows["params"] if "params" in rows else pd.Series(np.nan, rows.index)
    summary = rows["summary"] if "summary" in rows else pd.Series("", rows.index)
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{name} ({len(rows)})",
        "x": rows["flops"].tolist(),
        "y": rows["accuracy"].tolist(),
        "customdata": [
            [int(n), float(p), str(s) if isinstance(s, str) else ""]
            for n, p, s in zip(rows["number"], params, summary)
        ],
        "hovertemplate": _HOVER.replace("accuracy", score),
        **style,
    }


def front_figure(table: pd.DataFrame, score: str = "accuracy") -> dict[str, Any]:
    """Every trial with values; the front (the `pareto` column) in red, as a staircase,
    with `score` (the search's accuracy objective) up."""
    score = score if score in table else "accuracy"
    table = table.assign(accuracy=table[score])  # drawn and zoomed as `accuracy` below
    shown = table[table["flops"].notna() & table["accuracy"].notna()]
    on_front = shown["pareto"].astype(bool) if "pareto" in shown else shown["state"].eq("")
    data = []
    for state, label, color, symbol in (
        ("complete", "complete, not on the front", "#999999", "circle"),
        ("infeasible", "infeasible", "#ff7f0e", "x"),
        ("stopped_early", "stopped early", "#cccccc", "triangle-down"),
    ):
        rows = shown[(shown["state"] == state) & ~on_front]
        if len(rows):
            marker = {"color": color, "symbol": symbol, "size": 7}
            data.append(_points(rows, label, score, marker=marker))
    front = shown[on_front].sort_values("flops")
    style = {"mode": "lines+markers", "line": {"shape": "hv", "color": "#d62728"}}
    marker = {"color": "#d62728", "size": 9}
    data.append(_points(front, "Pareto front", score, marker=marker, **style))
    marks = shown["quality"].fillna("").astype(str) if "quality" in shown else None
    if marks is not None and (marks != "").any():  # ringed: models that learned nothing
        ring = {"symbol": "circle-open", "size": 16, "color": "#000000", "line": {"width": 2}}
        chance = _points(shown[marks != ""], "at chance or far below the run", score, marker=ring)
        data.append(chance)
    title = f"{len(front)} Pareto-optimal of {len(table)} trials"
    axis = "FLOPs (1 multiply-add = 1 FLOP, log scale)"
    layout = _layout(title, axis, f"{score} (higher is better)", True, shown["flops"])
    _fit_accuracy(layout, front, shown)
    return {"data": data, "layout": layout}


def _fit_accuracy(layout: dict[str, Any], front: pd.DataFrame, shown: pd.DataFrame) -> None:
    """Zooms the accuracy axis past a far-low outlier, naming what it leaves out."""
    y_range = accuracy_range(front["accuracy"].tolist(), shown["accuracy"].tolist())
    if y_range is None:
        return
    layout["yaxis"]["range"] = y_range
    below = shown[shown["accuracy"] < y_range[0]].sort_values("accuracy")
    listed = ", ".join(f"#{int(n)} at {a:.1%}" for n, a in zip(below["number"], below["accuracy"]))
    layout["annotations"] = [
        {
            "text": f"below the axis: {listed}",
            "xref": "paper",
            "yref": "paper",
            "x": 0.0,
            "y": 1.0,  # above the plot area, under the title: clear of every point
            "xanchor": "left",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 11, "color": "#d62728"},
        }
    ]


def hypervolume_figure(table: pd.DataFrame, reference: str) -> dict[str, Any]:
    trace = {
        "type": "scatter",
        "mode": "lines",
        "line": {"shape": "hv"},
        "x": table["number"].tolist(),
        "y": table["hypervolume"].tolist() if "hypervolume" in table else [],
        "name": "hypervolume",
        "hovertemplate": "after trial %{x}: %{y:.4g}<extra></extra>",
    }
    y_axis = f"hypervolume (reference: {reference})" if reference else "hypervolume"
    layout = _layout("hypervolume after each trial", "trial", y_axis)
    return {"data": [trace], "layout": layout}


def group_fronts_figure(
    groups: list[dict[str, Any]], title: str, score: str = "accuracy"
) -> dict[str, Any]:
    """Each group's front (from an analysis document) as a staircase, one colour each;
    the legend counts trials, as the EDF's does, and the FLOPs budgets asked for are
    dashed vertical lines."""
    data, flops = [], []
    for i, group in enumerate(groups):
        rows = pd.DataFrame(
            group["front"], columns=["number", "accuracy", "flops", "params", "summary"]
        )
        color = _COLORS[i % len(_COLORS)]
        style = {"mode": "lines+markers", "line": {"shape": "hv", "color": color}}
        marker = {"color": color, "size": 8}
        trace = _points(rows, str(group["label"]), score, marker=marker, **style)
        trace["name"] = f"{group['label']} ({_trials(group)}, {len(rows)} on its front)"
        data.append(trace)
        flops += rows["flops"].tolist()
    budgets = flops_budgets([b["budget"] for b in groups[0].get("best", [])] if groups else [])
    axis = "FLOPs (log scale)"
    layout = _layout(  # each front record's `accuracy` is the analysis's score
        title, axis, f"{score} (higher is better)", True, flops + [b for _, b in budgets]
    )
    layout["shapes"] = [_budget_line(bound) for _, bound in budgets]
    layout["annotations"] = [_budget_label(name, bound) for name, bound in budgets]
    return {"data": data, "layout": layout}


def _trials(group: dict[str, Any]) -> str:
    count = int(group["complete"])
    return f"{count} trial" + ("" if count == 1 else "s")


def _budget_line(bound: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": bound,
        "x1": bound,
        "y0": 0,
        "y1": 1,
        "line": {"color": "#555555", "dash": "dash", "width": 1},
    }


def _budget_label(name: str, bound: float) -> dict[str, Any]:
    return {
        "text": name,
        "x": math.log10(bound),  # annotations on a log axis take log10 of the value
        "xref": "x",
        "y": 1.0,
        "yref": "paper",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 11, "color": "#555555"},
    }


def edf_figure(groups: list[dict[str, Any]], title: str, score: str = "accuracy") -> dict[str, Any]:
    """Each group's error EDF, F(e) = fraction of its models with error <= e."""
    data = []
    for i, group in enumerate(groups):
        edf = group["edf"]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "color": _COLORS[i % len(_COLORS)]},
                "name": f"{group['label']} ({_trials(group)})",
                "x": [0.0, *edf["error"]],
                "y": [0.0, *edf["fraction"]],
                "hovertemplate": "error <= %{x:.3f}: %{y:.0%}<extra>"
                + str(group["label"])
                + "</extra>",
            }
        )
    band = groups[0]["edf"].get("band") if groups else None
    axis = f"error = 1 - {score}" + (f" ({band})" if band else "")
    layout = _layout(title, axis, "cumulative fraction of models", yaxis={"range": [0, 1.02]})
    return {"data": data, "layout": layout}


def learning_curves_figure(
    histories: dict[int, list[dict[str, Any]]], metric: str
) -> dict[str, Any]:
    """`metric` per epoch for each trial in `histories` (the front's members)."""
    data = []
    for number, history in sorted(histories.items()):
        epochs = [h.get("epoch") for h in history if h.get(metric) is not None]
        values = [h[metric] for h in history if h.get(metric) is not None]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"#{number}",
                "x": epochs,
                "y": values,
                "hovertemplate": f"trial {number}, epoch %{{x}}: %{{y:.4f}}<extra></extra>",
            }
        )
    layout = _layout(f"validation {metric} per epoch (front)", "epoch", metric)
    layout["xaxis"].update({"tick0": 1, "dtick": 1})  # whole epochs, never 1.5
    return {"data": data, "layout": layout}
