"""`nas verify`: the front retrained with several seeds, summarised with t-intervals.

The interval is checked against numbers computed by hand from the published t quantile;
the verify itself is a real one (a tiny search, then 2 seeds of 1 epoch on limited data).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from nas.runs import format as rf
from nas.runs.intervals import T_TABLE_95, t_interval, t_quantile
from nas.runs.verification import format_summary, summarise

T_975_DF2 = 4.302652729911275  # t(0.975, 2), from any printed t table


def test_the_interval_of_known_numbers() -> None:
    interval = t_interval([0.90, 0.92, 0.94])
    # mean 0.92; s = sqrt(((-0.02)^2 + 0 + 0.02^2) / 2) = 0.02; half = t * s / sqrt(3)
    half = T_975_DF2 * 0.02 / math.sqrt(3)
    assert interval.mean == pytest.approx(0.92)
    assert interval.std == pytest.approx(0.02)
    assert (interval.low, interval.high) == (pytest.approx(0.92 - half), pytest.approx(0.92 + half))
    assert half == pytest.approx(0.049683, abs=1e-6)


def test_the_fallback_table_matches_scipy() -> None:
    for df, value in T_TABLE_95.items():
        assert t_quantile(df) == pytest.approx(value, abs=1e-3)


def test_one_seed_has_no_interval_and_separated_members_are_told_apart() -> None:
    assert math.isnan(t_interval([0.5]).low)
    rows = [
        {"trial": t, "seed": s, "epochs": 1, "accuracy": a, "flops": f}
        for t, f, values in ((1, 2e6, (0.90, 0.91, 0.92)), (2, 1e6, (0.50, 0.51, 0.52)))
        for s, a in zip((1, 2, 3), values)
    ]
    rows += [{**r, "trial": 3, "flops": 3e6, "accuracy": r["accuracy"] + 0.005} for r in rows[:3]]
    document = summarise(rows, ["accuracy", "flops"], {})
    assert [m["trial"] for m in document["members"]] == [2, 1, 3]  # by FLOPs
    pairs = document["indistinguishable"]
    assert [p["trials"] for p in pairs] == [[1, 3]]  # 0.91 vs 0.915: the rest are apart
    assert pairs[0]["overlap"] and pairs[0]["welch_p"] > 0.05


def test_an_interval_past_the_metrics_range_is_cut_to_it_and_flagged() -> None:
    # 42.11% +/- 12.41 on 2 seeds: mean +/- 12.706 * s / sqrt(2) reaches -69% and 154%.
    values = [0.4211 - 0.1241 / math.sqrt(2), 0.4211 + 0.1241 / math.sqrt(2)]
    loose = t_interval(values)
    assert loose.low < 0 and loose.high > 1 and not loose.clipped
    cut = t_interval(values, (0.0, 1.0))
    assert (cut.low, cut.high, cut.clipped) == (0.0, 1.0, True)
    assert cut.mean == pytest.approx(0.4211) and cut.std == pytest.approx(0.1241)
    inside = t_interval([0.90, 0.92, 0.94], (0.0, 1.0))
    assert not inside.clipped and inside.high == pytest.approx(0.92 + 0.049683, abs=1e-6)
    rows = [
        {"trial": 4, "seed": s, "epochs": 1, "accuracy": a, "flops": 1e6}
        for s, a in zip((1, 2), values)
    ]
    document = summarise(rows, ["accuracy", "flops"], {})
    text = format_summary(document)
    assert "[0.00, 100.00]*" in text and "interval cut to the metric's range" in text


def test_a_seed_far_below_the_search_score_is_named() -> None:
    # Searched at 91.2% with a 0.9-point standard error: 5 SE below is 86.7%.
    searched = {7: {"accuracy": 0.912, "accuracy_se": 0.009, "chance_accuracy": 0.333}}
    rows = [
        {"trial": 7, "seed": s, "epochs": 1, "accuracy": a, "flops": 1e6}
        for s, a in zip((1, 2, 3), (0.905, 0.333, 0.866))
    ]
    document = summarise(rows, ["accuracy", "flops"], {}, searched)
    misses = document["members"][0]["shortfalls"]
    assert [(m["seed"], m["at_chance"]) for m in misses] == [(2, True), (3, False)]
    text = format_summary(document)
    assert (
        "warning: #7 seed 2 scored 33.30%, at chance level, far below the search's 91.20%" in text
    )
    assert "#7 seed 1" not in text


SPACE = {
    "name": "tiny",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [8, 16], "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 8, "stride": 2, "kernel": 3}],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 600},
    "train": {"epochs": 1, "batch_size": 64},
    "search": {"objectives": {"accuracy": "max", "flops": "min"}},
}


@pytest.mark.slow
def test_a_real_verify_records_every_seed_and_resumes(nas, write_space, tmp_path) -> None:
    run = tmp_path / "run"
    searched = nas("search", write_space(SPACE), "--trials", "2", "--output", run)
    assert searched.code == 0, searched.err
    first = nas("verify", run, "--seeds", "1", "--pick", "0", "1", "--json")
    assert first.code == 0, first.err
    kept = pd.read_csv(run / rf.VERIFY_CSV)
    front = [0, 1]
    assert list(kept["trial"]) == front and list(kept["seed"]) == [1, 1]
    _store_address(run, "127.0.0.1:1")  # as if the search had run on a cluster now gone
    gone = nas("verify", run, "--seeds", "2", "--pick", "0", "1")
    assert gone.code == 2 and "127.0.0.1:1, which does not answer now" in gone.err, gone.err
    assert "--address local" in gone.err and len(gone.err.strip().splitlines()) == 1
    pd.testing.assert_frame_equal(pd.read_csv(run / rf.VERIFY_CSV), kept)  # nothing lost
    # only seed 2 is trained, here
    result = nas("verify", run, "--seeds", "2", "--pick", "0", "1", "--json", "--address", "local")
    assert result.code == 0, result.err
    table = pd.read_csv(run / rf.VERIFY_CSV)
    assert sorted(zip(table["trial"], table["seed"])) == [(t, s) for t in front for s in (1, 2)]
    again = table[table["seed"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, kept.reset_index(drop=True))  # seed 1 kept as it was
    document = json.loads((run / rf.VERIFY_JSON).read_text())
    assert document == result.json()
    for member in document["members"]:
        values = list(table[table["trial"] == member["trial"]]["accuracy"])
        stats = member["objectives"]["accuracy"]
        assert stats["mean"] == pytest.approx(sum(values) / 2)
        # n = 2: s = |a - b| / sqrt(2), half = t(0.975, 1) * s / sqrt(2) = t * |a - b| / 2
        half = 12.706204736174707 * abs(values[0] - values[1]) / 2
        mean = sum(values) / 2
        assert stats["high"] == pytest.approx(min(mean + half, 1.0))
        assert stats["low"] == pytest.approx(max(mean - half, 0.0))
        assert stats["clipped"] == (mean + half > 1.0 or mean - half < 0.0)
    assert "nas verify: 2 training(s) to run; 2 already in verify.csv are kept" in result.err
    assert "[2/2] trial " in result.err and ", done" in result.err
    report = nas("report", run, "--no-plots")
    assert "verified: 1 epoch(s)" in report.out
    assert (
        nas("verify", run, "--epochs", "2", "--pick", "0").code == 2
    )  # other epochs: refused, file kept


def _store_address(run, address: str) -> None:
    """Records `address` as the cluster the run's search used (the study's config copy)."""
    import optuna

    info = json.loads((run / rf.RUN_FILE).read_text())
    study = optuna.load_study(
        study_name=info[rf.RUN_STUDY_NAME], storage=f"sqlite:///{run / rf.STUDY_FILE}"
    )
    config = study.user_attrs[rf.STUDY_CONFIG]
    study.set_user_attr(
        rf.STUDY_CONFIG, {**config, "search": {**config["search"], "address": address}}
    )


@pytest.mark.slow
def test_verify_winners_scores_on_the_test_split_and_analyze_makes_a_tested_call(
    nas, write_space, tmp_path
) -> None:
    import numpy as np

    from nas.runs.analysis.evidence import unpack_correct, unpack_labels

    run = tmp_path / "run"
    space = {**SPACE, "search": {**SPACE["search"], "trials": 4}}
    assert nas("search", write_space(space), "--output", run).code == 0
    before = nas("analyze", run, "--by", "stem.width", "--json", "--no-report").json()
    call = before["groupings"][0]["winners"][0]
    assert call["status"] == "untested" and not call["clear"]
    result = nas("verify", run, "--winners", "--by", "stem.width", "--seeds", "2", "--json")
    assert result.code == 0, result.err
    table = pd.read_csv(run / rf.VERIFY_CSV)
    # limit 600: 120 validation images, then 120 test images held out of the 360 trained on
    assert set(table["test_images"]) == {120}
    for _, row in table.iterrows():
        bits = unpack_correct(row["test_correct"], 120)
        assert bits.mean() == pytest.approx(row["test_accuracy"])
        labels = unpack_labels(row["test_labels"])  # mean recall over the classes present
        recalls = [bits[labels == c].mean() for c in np.unique(labels)]
        assert np.mean(recalls) == pytest.approx(row["test_balanced_accuracy"])
    retrained = set(table["trial"])
    assert retrained == {n for group in call["candidates"].values() for n in group}
    after = nas("analyze", run, "--by", "stem.width", "--json", "--no-report").json()
    tested = after["groupings"][0]["winners"][0]
    assert tested["status"] == "tested" and tested["test"]["test_images"] == 120
    a, b = tested["champions"]
    first = np.mean([unpack_correct(t, 120).mean() for t in table[table.trial == a].test_correct])
    second = np.mean([unpack_correct(t, 120).mean() for t in table[table.trial == b].test_correct])
    assert tested["difference"] == pytest.approx(first - second)
    # the run's seed noise now rests on the verify seeds
    assert after["noise"]["source"] == "measured" and after["noise"]["df"] >= 2


def test_winners_on_a_run_without_a_test_split_is_refused_in_one_line(tmp_path) -> None:
    from nas.engine.verify import _data_config, _require_test_split
    from search_space.errors import SpaceError

    # a run recorded before test splits existed: its data section has no test_fraction
    old = {"name": "mnist5k", "val_fraction": None, "validation": "split", "split_seed": 0}
    assert _data_config(old).test_fraction == 0.0  # its seeds train on what the search did
    with pytest.raises(SpaceError, match="keeps no test split") as error:
        _require_test_split(tmp_path, old)
    assert "\n" not in str(error.value)
    _require_test_split(tmp_path, {**old, "test_fraction": None})  # a current run: kept
