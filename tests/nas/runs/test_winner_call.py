"""The winner call's words and its switch from untested to tested, on hand-made runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nas.runs.analysis.evidence import Evidence, pack_correct, retrained_tables, unpack_correct
from nas.runs.analysis.tested import compare_on_test
from nas.runs.analysis.units import candidates, units_of
from nas.runs.analysis.winner import call_winner
from nas.runs.noise import SeedNoise, seed_noise


def _group(accuracies: list[float], start: int, keys: list[str] | None = None) -> pd.DataFrame:
    numbers = list(range(start, start + len(accuracies)))
    table = pd.DataFrame(
        {"number": numbers, "state": "complete", "accuracy": accuracies, "val_images": 1000}
    )
    if keys is not None:
        table["arch_key"] = keys
    return table


def _scores(rng: np.random.Generator, accuracy: float, seeds: int, images: int) -> np.ndarray:
    return rng.random((seeds, images)) < accuracy


def test_replicates_are_one_unit_scored_by_their_mean() -> None:
    table = _group([0.97, 0.98, 0.96], 0, keys=["a", "b", "a"])
    noise = SeedNoise(0.005, 1, 1, "measured")
    units = units_of(table, noise)
    assert [(u.number, u.trials, u.seeds) for u in units] == [(1, (1,), 1), (0, (0, 2), 2)]
    assert units[1].mean == pytest.approx(0.965)
    # se of a 2-seed mean: seed noise halves in variance, evaluation noise does not
    assert units[1].se == pytest.approx(np.sqrt(0.005**2 / 2 + 0.965 * 0.035 / 1000))


def test_candidates_are_those_within_noise_of_the_best() -> None:
    table = _group([0.98, 0.978, 0.95, 0.975], 0)
    noise = SeedNoise(0.002, 10, 5, "measured")
    found = [u.number for u in candidates(units_of(table, noise), limit=3)]
    # se of one unit ~ hypot(0.002, 0.0044) = 0.0049; 1.96 * sqrt(2) * that = 0.0135
    assert found == [0, 1, 3]


def test_packed_test_scores_round_trip() -> None:
    correct = np.random.default_rng(1).random(1003) < 0.9
    text = pack_correct(correct)
    assert text.startswith("x") and np.array_equal(unpack_correct(text, 1003), correct)
    rows = [
        {"trial": 4, "seed": s, "test_images": 1003, "test_correct": pack_correct(correct)}
        for s in (1, 2)
    ]
    assert retrained_tables(rows)[0][4].shape == (2, 1003)


def test_untested_call_names_the_retraining_that_would_test_it() -> None:
    groups = {"conv": _group([0.987, 0.98, 0.95], 0), "hybrid": _group([0.98, 0.97], 3)}
    evidence = Evidence(seed_noise(pd.concat(groups.values()), []), {}, "nas verify RUN --winners")
    call = call_winner(groups, evidence, "flops<=5e6")
    assert call["status"] == "untested" and not call["clear"]
    assert call["sentence"].startswith("flops<=5e6: untested: single-seed scores")
    assert "+0.70 points on validation" in call["sentence"]
    assert call["candidates"] == {"conv": [0, 1], "hybrid": [3, 4]}
    assert any(line.startswith("to test it: nas verify RUN --winners") for line in call["details"])
    assert any("assumed" in line for line in call["details"])


def test_tested_call_is_a_clear_win_only_when_labels_matter_too() -> None:
    rng = np.random.default_rng(2)
    conv = _group([0.99, 0.988, 0.987, 0.986], 0)
    hybrid = _group([0.97, 0.96, 0.95, 0.965, 0.955, 0.962], 4)
    tests = {0: _scores(rng, 0.99, 3, 4000), 4: _scores(rng, 0.97, 3, 4000)}
    evidence = Evidence(seed_noise(pd.concat([conv, hybrid]), []), tests)
    call = call_winner({"conv": conv, "hybrid": hybrid}, evidence, "any budget")
    expected = compare_on_test(tests[0], tests[4])
    assert call["status"] == "tested" and call["clear"]
    assert call["difference"] == pytest.approx(expected.difference)
    assert call["low"] == pytest.approx(expected.low)
    assert call["high"] == pytest.approx(expected.high)
    assert call["permutation_p"] < 0.05  # conv holds the top four of ten
    assert call["sentence"].endswith("a clear win")
    assert "seed noise" in call["details"][0] and "evaluation noise" in call["details"][0]


def test_a_model_level_difference_without_a_label_effect_is_not_a_clear_win() -> None:
    rng = np.random.default_rng(3)
    conv = _group([0.99, 0.95], 0)  # one good conv, one poor
    hybrid = _group([0.97, 0.985, 0.96], 2)
    tests = {0: _scores(rng, 0.99, 3, 4000), 3: _scores(rng, 0.97, 3, 4000)}
    evidence = Evidence(seed_noise(pd.concat([conv, hybrid]), []), tests)
    call = call_winner({"conv": conv, "hybrid": hybrid}, evidence, "any budget")
    assert call["test"]["clear"] and not call["clear"]
    assert "not yet between conv and hybrid" in call["sentence"]


def test_the_reference_run_call_rests_on_its_retrained_test_scores() -> None:
    from pathlib import Path

    from nas.runs.analysis.run import analyze_run

    reference = Path(__file__).resolve().parents[3] / "results" / "reference"
    document, _ = analyze_run(reference, budgets=["flops<=5e6"], evaluator=None, write=False)
    call = document["groupings"][0]["winners"][1]
    assert call["budget"] == "flops<=5e6" and call["status"] == "tested"
    rows = pd.read_csv(reference / "verify.csv")
    a, b = call["champions"]

    def test_accuracy(trial: int) -> float:
        mine = rows[rows["trial"] == trial]
        return float(np.mean([unpack_correct(t, 1000).mean() for t in mine["test_correct"]]))

    assert call["difference"] == pytest.approx(test_accuracy(a) - test_accuracy(b))
    # the champions are the groups' best single-seed validation scores, fixed beforehand
    table = pd.read_csv(reference / "trials.csv")
    best = table.loc[table.groupby(table["summary"].str.contains("attention"))["accuracy"].idxmax()]
    assert sorted(best["number"]) == sorted([a, b])
