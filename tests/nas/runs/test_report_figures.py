"""The report page's figures read correctly: every log tick labelled in full, a far-low
outlier named instead of squeezing the front, legends that count the same thing, the
budgets drawn, whole epochs, and a title clear of the toolbar."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nas.runs.html.axes import accuracy_range, log_ticks
from nas.runs.html.figures import (
    edf_figure,
    front_figure,
    group_fronts_figure,
    hypervolume_figure,
    learning_curves_figure,
)

REFERENCE = Path(__file__).resolve().parents[3] / "results" / "reference"
SI = {"k": 1e3, "M": 1e6, "G": 1e9}


def parse_si(text: str) -> float:
    return float(text[:-1]) * SI[text[-1]] if text[-1] in SI else float(text)


@pytest.mark.parametrize(
    ("low", "high"),
    [(648e3, 922e3), (2e7, 2e8), (5e5, 4e6), (1.2e4, 3.3e9)],
    ids=["inside-one-decade", "20M-and-200M", "demo-front", "six-decades"],
)
def test_log_ticks_are_labelled_in_full_and_fall_inside_the_data(low: float, high: float) -> None:
    ticks = log_ticks([low, (low * high) ** 0.5, high])
    values, labels = ticks["tickvals"], ticks["ticktext"]
    assert len(values) >= 3 and len(set(labels)) == len(labels)  # no two ticks read "2"
    for value, label in zip(values, labels):
        assert parse_si(label) == pytest.approx(value, rel=1e-9)
        assert low * 0.95 <= value <= high * 1.05


def test_the_demos_narrow_front_gets_labels_between_648k_and_922k() -> None:
    labels = log_ticks([648e3, 922e3])["ticktext"]
    assert labels == ["700k", "800k", "900k"]


def test_a_far_low_front_member_is_named_below_the_axis_not_squeezing_the_rest() -> None:
    accuracies = [0.970, 0.972, 0.975, 0.977, 0.979, 0.981, 0.985, 0.80]  # #7 at 80%
    table = pd.DataFrame(
        {
            "number": range(8),
            "state": "complete",
            "pareto": True,
            "accuracy": accuracies,
            "flops": [1e6 * (1 + i) for i in range(7)] + [0.5e6],
            "params": 1e4,
            "summary": "",
        }
    )
    layout = front_figure(table)["layout"]
    low, high = layout["yaxis"]["range"]
    assert 0.80 < low < 0.970 and high > 0.985
    assert (high - low) < 0.05  # the seven stay spread out, not within 0.97-0.985 of 0.2
    assert layout["annotations"][0]["text"] == "below the axis: #7 at 80.0%"


def test_no_zoom_without_a_far_low_trial_and_a_chance_level_one_off_the_front_zooms() -> None:
    front = [0.9, 0.92, 0.95, 0.97]  # Q1 0.915, IQR 0.0325: the fence at 0.8175
    assert accuracy_range(front, [0.85, *front]) is None
    low, _ = accuracy_range(front, [0.33, 0.85, *front])  # a 3-class chance-level trial
    assert 0.33 < low < 0.85


def test_front_legend_says_complete_trials_are_off_the_front() -> None:
    table = pd.read_csv(REFERENCE / "trials.csv")
    names = [trace["name"] for trace in front_figure(table)["data"]]
    off = int((~table["pareto"].astype(bool) & (table["state"] == "complete")).sum())
    assert names[0] == f"complete, not on the front ({off})"
    assert names[-1] == f"Pareto front ({int(table['pareto'].sum())})"


GROUPS = [
    {
        "label": "attention",
        "complete": 5,
        "front": [[3, 0.95, 2e6, 1e4, "a"], [4, 0.97, 6e6, 2e4, "b"]],
        "edf": {"error": [0.03, 0.05], "fraction": [0.4, 1.0]},
        "best": [{"budget": "any budget"}, {"budget": "flops<=5e6"}],
    },
    {
        "label": "conv",
        "complete": 1,
        "front": [[1, 0.96, 1e6, 1e4, "c"]],
        "edf": {"error": [0.04], "fraction": [1.0]},
        "best": [{"budget": "any budget"}, {"budget": "flops<=5e6"}],
    },
]


def test_family_front_and_edf_legends_both_count_trials() -> None:
    fronts = [t["name"] for t in group_fronts_figure(GROUPS, "f")["data"]]
    edfs = [t["name"] for t in edf_figure(GROUPS, "e")["data"]]
    assert fronts == ["attention (5 trials, 2 on its front)", "conv (1 trial, 1 on its front)"]
    assert edfs == ["attention (5 trials)", "conv (1 trial)"]


def test_the_budgets_asked_for_are_drawn_on_the_family_fronts() -> None:
    layout = group_fronts_figure(GROUPS, "f")["layout"]
    (line,) = layout["shapes"]
    assert line["x0"] == line["x1"] == 5e6 and line["line"]["dash"] == "dash"
    (label,) = layout["annotations"]
    assert label["text"] == "flops<=5e6" and label["x"] == pytest.approx(6.69897, abs=1e-5)
    assert "5M" in layout["xaxis"]["ticktext"]  # the axis reaches the budget


def test_learning_curves_tick_whole_epochs() -> None:
    histories = {3: [{"epoch": 1, "accuracy": 0.9}, {"epoch": 2, "accuracy": 0.95}]}
    xaxis = learning_curves_figure(histories, "accuracy")["layout"]["xaxis"]
    assert (xaxis["tick0"], xaxis["dtick"]) == (1, 1)


def test_hypervolume_title_is_short_and_the_reference_moves_to_the_axis() -> None:
    table = pd.read_csv(REFERENCE / "trials.csv")
    layout = hypervolume_figure(table, "accuracy=0, flops=37.9M")["layout"]
    assert layout["title"]["text"] == "hypervolume after each trial"
    assert layout["yaxis"]["title"]["text"] == "hypervolume (reference: accuracy=0, flops=37.9M)"
    assert layout["margin"]["t"] >= 60  # the title's row is above plotly's toolbar row
