"""MO-ASHA's ranking, rungs and decisions against values worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from nas.engine.schedulers import (
    Ladder,
    RungBook,
    continues,
    crowding_distances,
    hypervolume_contributions,
    pareto_order,
    survivors,
)
from nas.engine.schedulers.mo_asha import rung_point
from nas.runs.pareto import nondominated_ranks

ACC_FLOPS = ["maximize", "minimize"]

# A planted rung of 9 trials: (accuracy at the rung, MFLOPs). Worked out by hand:
#   front 0: A B C D (accuracy falls as FLOPs fall: nobody beats anybody)
#   front 1: E (beaten by B), G (beaten by D), H (beaten by A)
#   front 2: F (beaten by E, which is in front 1)
#   front 3: I (beaten by F)
RUNG = {
    "A": (0.98, 40),
    "B": (0.96, 31),
    "C": (0.95, 28),
    "D": (0.90, 10),
    "E": (0.95, 35),
    "F": (0.93, 41),
    "G": (0.85, 12),
    "H": (0.97, 45),
    "I": (0.50, 50),
}
FRONTS = [{"A", "B", "C", "D"}, {"E", "G", "H"}, {"F"}, {"I"}]


def test_nondominated_sort_matches_the_fronts_written_by_hand():
    names, points = list(RUNG), list(RUNG.values())
    ranks = nondominated_ranks(points, ACC_FLOPS)
    assert [{n for n, r in zip(names, ranks) if r == k} for k in range(4)] == FRONTS


def test_pareto_order_lists_front_after_front():
    names, points = list(RUNG), list(RUNG.values())
    order = [names[i] for i in pareto_order(points, ACC_FLOPS)]
    sizes = [len(front) for front in FRONTS]
    starts = [sum(sizes[:k]) for k in range(len(sizes))]
    assert [set(order[s : s + n]) for s, n in zip(starts, sizes)] == FRONTS


def test_crowding_distance_by_the_nsga2_formula():
    # Front 0 of the planted rung. Accuracy range 0.98 - 0.90 = 0.08, FLOPs range 30.
    # B: accuracy neighbours C, A: (0.98 - 0.95) / 0.08; FLOPs neighbours C, A: (40 - 28) / 30
    # C: accuracy neighbours D, B: (0.96 - 0.90) / 0.08; FLOPs neighbours D, B: (31 - 10) / 30
    front = [RUNG[n] for n in "ABCD"]
    expected = [math.inf, 0.03 / 0.08 + 12 / 30, 0.06 / 0.08 + 21 / 30, math.inf]
    assert crowding_distances(front) == pytest.approx(expected)


def test_crowding_distance_of_two_points_is_infinite_and_a_flat_objective_adds_nothing():
    assert crowding_distances([[1, 2], [3, 4]]) == [math.inf, math.inf]
    # the first objective is flat (adds 0); the second gives the middle (4 - 1) / (4 - 1)
    assert crowding_distances([[0, 1], [0, 2], [0, 4]]) == [math.inf, 1.0, math.inf]


def test_hypervolume_contributions_by_rectangles():
    # Sorted by FLOPs: D 10, C 28, B 31, A 40; reference (0.452, 54). The area only a point
    # dominates is (next point's FLOPs - its FLOPs) x (its accuracy - the cheaper one's).
    front = [RUNG[n] for n in "DCBA"]
    expected = [18 * (0.90 - 0.452), 3 * (0.95 - 0.90), 9 * (0.96 - 0.95), 14 * (0.98 - 0.96)]
    got = hypervolume_contributions(front, ACC_FLOPS, [0.452, 54])
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("tie_break", ["crowding", "hypervolume"])
def test_planted_rung_of_nine_with_eta_3_lets_exactly_the_expected_three_continue(tie_break):
    # Front 0 has 4 members for 3 places: both tie-breaks keep the extremes A and D and
    # prefer C to B (crowding 1.45 vs 0.775; contribution 0.15 vs 0.09, computed above).
    names, points = list(RUNG), list(RUNG.values())
    kept = {n for i, n in enumerate(names) if continues(i, points, ACC_FLOPS, 3, tie_break)}
    assert kept == {"A", "C", "D"}


def test_a_tie_counts_for_the_newcomer():
    # Two points at a rung, neither better: both ends of the front (crowding infinite), so
    # nobody is strictly ahead of the newcomer and it continues (ceil(2 / 3) = 1 place).
    # Seen in a real search: a 97% model more costly than the first trial was stopped
    # when ties went to the earlier trial.
    book = RungBook(Ladder(1, 3, 9), ACC_FLOPS)
    assert book.report(0, 3, [0.30, 2.2e6]) is True
    assert book.report(3, 3, [0.62, 2.1e7]) is True
    assert book.report(4, 3, [0.20, 4.1e6]) is False  # beaten by trial 0


@pytest.mark.parametrize(
    ("count", "eta", "kept"), [(1, 3, 1), (2, 3, 1), (4, 3, 2), (9, 3, 3), (10, 3, 4), (8, 2, 4)]
)
def test_survivors_is_count_over_eta_rounded_up(count, eta, kept):
    assert survivors(count, eta) == kept


def test_non_finite_points_come_last():
    order = pareto_order([[math.nan, 1], [0.1, 100], [0.9, 5]], ACC_FLOPS)
    assert order[-1] == 0


def test_ladder_levels_rungs_and_brackets():
    ladder = Ladder(grace=1, reduction_factor=3, max_epochs=20, brackets=2)
    assert ladder.levels == [1, 3, 9]
    assert [ladder.rung_of(e) for e in (0, 1, 2, 3, 8, 9, 19, 20)] == [None, 0, 0, 1, 1, 2, 2, 3]
    assert ladder.milestones(4) == [1, 3, 9]  # bracket 0
    assert ladder.milestones(7) == [3, 9]  # bracket 1 starts one rung up
    assert Ladder(2, 2, 9).levels == [2, 4, 8]
    assert Ladder(1, 3, 3).levels == [1]
    assert Ladder(1, 3, 1).levels == []  # one epoch: nothing to stop


def test_asynchronous_decisions_on_one_objective():
    # eta 3, accuracies arriving at rung epoch 1, each judged against those before it:
    # n=1 keeps 1 (0.5 first); n=2 keeps 1 (0.4 is 2nd: stop); n=3 keeps 1 (0.6 best);
    # n=4 keeps 2 (0.55 is 2nd); n=5 keeps 2 (0.3 last: stop); n=6 keeps 2 (0.7 best).
    book = RungBook(Ladder(1, 3, 9), ["maximize"])
    decisions = [book.report(n, 1, [a]) for n, a in enumerate([0.5, 0.4, 0.6, 0.55, 0.3, 0.7])]
    assert decisions == [True, False, True, True, False, True]
    assert book.report(0, 2, [0.0]) is True  # epoch 2 is no rung: nothing is judged


def test_replayed_history_decides_like_the_live_run():
    ladder = Ladder(1, 3, 9)
    histories = {
        n: [(1, [0.1 * n, 10 - n]), (2, [0.2, 1]), (3, [0.1 * n + 0.3, 10 - n])] for n in range(5)
    }
    live = RungBook(ladder, ACC_FLOPS)
    for n, history in histories.items():
        for epoch, point in history:
            live.report(n, epoch, point)
    resumed = RungBook(ladder, ACC_FLOPS)
    for n, history in histories.items():
        resumed.replay(n, history)
    assert resumed.records == live.records
    assert resumed.counts() == {1: 5, 3: 5}  # 9 is the full budget, no rung
    newcomer = (0.05, 20)  # worst on both at epoch 1: last of 6, and 6 / 3 = 2 continue
    assert resumed.report(9, 1, newcomer) is live.report(9, 1, newcomer) is False


def test_rung_point_reads_the_epoch_report_and_the_counted_metrics():
    config = {"number": 3, "counts": {"flops": 2.5e6, "params": 1000.0}}
    result = {
        "epoch": 1,
        "val_accuracy": 0.9,
        "payload": '{"epoch": 1, "accuracy": 0.91, "loss": 0.3}',
    }
    assert rung_point(["accuracy", "flops", "loss"], config, result) == [0.91, 2.5e6, 0.3]
    assert math.isnan(rung_point(["latency_ms"], config, result)[0])


# Six trials run one after another under real Ray Tune, 9 epochs, rungs at epochs 1 and 3.
# Accuracy at epoch e is quality * e / 9 (scaling keeps every dominance). Worked out by hand:
#   0 (0.90, 10): first everywhere, trains all 9 epochs
#   1 (0.80, 20): beaten by 0; 1 of 2 continues at epoch 1 -> stops at 1
#   2 (0.95,  5): beats everybody -> 9
#   3 (0.50, 50): 4th of 4, 2 continue -> stops at 1
#   4 (0.92,  8): 2nd of 5 at epoch 1 (beaten by 2 only) continues; at epoch 3, behind
#                 2 (beats it) and ahead of 0 (it beats 0): 2nd of 3, 1 continues -> stops at 3
#   5 (0.10, 100): last -> stops at 1
PLANTED = [(0.90, 10), (0.80, 20), (0.95, 5), (0.50, 50), (0.92, 8), (0.10, 100)]
EXPECTED_EPOCHS = {0: 9, 1: 1, 2: 9, 3: 1, 4: 3, 5: 1}


def _planted_trainable(config: dict) -> None:
    from ray import tune

    quality = PLANTED[config["number"]][0]
    for epoch in range(1, 9):  # the last epoch comes with the final report, as in nas/trial.py
        tune.report({"epoch": epoch, "val_accuracy": quality * epoch / 9})
    tune.report({"final": True, "epochs": 9})


@pytest.mark.slow
def test_scheduler_under_ray_tune_stops_the_planted_trials(tmp_path, monkeypatch):
    import ray
    from ray import tune

    from nas.engine.schedulers.mo_asha import MOASHAScheduler

    monkeypatch.setenv("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")  # the final report
    stopped: list[str] = []
    scheduler = MOASHAScheduler(
        Ladder(1, 3, 9), ["val_accuracy", "flops"], ACC_FLOPS, on_stop=stopped.append
    )
    space = {
        "number": tune.grid_search(list(range(len(PLANTED)))),
        "counts": tune.sample_from(lambda spec: {"flops": PLANTED[spec.config.number][1]}),
    }
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        results = tune.Tuner(
            _planted_trainable,
            param_space=space,
            tune_config=tune.TuneConfig(scheduler=scheduler, max_concurrent_trials=1),
            run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
        ).fit()
    finally:
        ray.shutdown()
    trained = {r.config["number"]: r.metrics.get("epochs") or r.metrics["epoch"] for r in results}
    assert trained == EXPECTED_EPOCHS
    assert len(stopped) == sum(1 for e in EXPECTED_EPOCHS.values() if e < 9)
    assert scheduler.book.counts() == {1: 6, 3: 3}


TINY = {
    "name": "tiny",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [8, 16, 32], "stride": 2},
    "stages": [
        {"block": ["resnet", "mbconv"], "depth": 1, "width": [8, 16], "stride": 2, "kernel": 3}
    ],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 600},
    "train": {"epochs": 3, "batch_size": 64},
    "search": {
        "objectives": {"accuracy": "max", "flops": "min"},
        "early_stopping": "mo_asha",
        "asha_grace_period": 1,
        "asha_reduction_factor": 3,
        "max_concurrent": 1,
        "plots": False,
    },
}


@pytest.mark.slow
def test_a_real_search_records_rungs_and_stops_by_pareto_rank(nas, write_space, tmp_path):
    import optuna
    import pandas as pd

    from nas.runs import format as rf
    from nas.runs.curves import expand_history

    space, run = write_space(TINY), tmp_path / "run"
    first = nas("search", space, "--trials", 4, "--seed", 1, "--output", run, "--json")
    assert first.code == 0, first.err
    # the rungs recorded so far come back from the study on --resume
    again = nas("search", "--resume", "--output", run, "--trials", 7, "--json")
    assert again.code == 0, again.err
    table = pd.read_csv(run / rf.TRIALS_CSV).set_index("number")
    assert set(table["state"]) <= {rf.COMPLETE, rf.STOPPED_EARLY}
    stopped = table[table["state"] == rf.STOPPED_EARLY]
    complete = table[table["state"] == rf.COMPLETE]
    assert len(stopped) >= 1 and len(complete) >= 1
    assert set(stopped["epochs"]) == {1} and set(stopped["rung"]) == {0}
    assert set(complete["epochs"]) == {3} and set(complete["rung"]) == {1}
    assert not table.loc[stopped.index, "pareto"].any()  # stopped trials never enter a front

    info = json.loads((run / rf.RUN_FILE).read_text())
    study = optuna.load_study(
        study_name=info[rf.RUN_STUDY_NAME], storage=f"sqlite:///{run / rf.STUDY_FILE}"
    )
    book = RungBook(Ladder(1, 3, 3), ACC_FLOPS)
    for trial in sorted(study.trials, key=lambda t: t.number):
        epoch1 = expand_history(trial.user_attrs[rf.ATTR_HISTORY])[0]
        assert epoch1["epoch"] == 1
        flops = trial.user_attrs[rf.ATTR_METRICS]["flops"]
        expected = book.report(trial.number, 1, [epoch1["accuracy"], flops])
        assert (trial.user_attrs[rf.ATTR_STATE] == rf.COMPLETE) == expected, trial.number


@pytest.mark.parametrize("tie_break", ["crowding", "hypervolume"])
def test_the_tie_break_setting_reaches_the_rungs(write_space, tmp_path, tie_break):
    import types

    import optuna

    from nas.engine.config import resolve_experiment
    from nas.engine.schedulers.build import make_scheduler

    space = {**TINY, "search": {**TINY["search"], "asha_tie_break": tie_break}}
    experiment = resolve_experiment(str(write_space(space)), {"search": {"output": str(tmp_path)}})
    searcher = types.SimpleNamespace(
        study=optuna.create_study(directions=ACC_FLOPS), stopped_by_scheduler=set(), rung_of=None
    )
    scheduler = make_scheduler(experiment, searcher)
    assert scheduler.book.tie_break == tie_break
    # the planted rung of nine with C arriving last: C is one of the three kept (A, C, D)
    names = list(RUNG)
    for number, name in enumerate(names):
        if name != "C":
            scheduler.book.replay(number, [(1, RUNG[name])])
    assert scheduler.book.report(names.index("C"), 1, RUNG["C"]) is True
    assert scheduler.book.report(len(names), 1, RUNG["I"]) is False  # a copy of the last


def test_an_unknown_tie_break_is_one_line_naming_the_choices(write_space, tmp_path):
    from nas.engine.config import resolve_experiment
    from search_space.errors import SpaceError

    space = {**TINY, "search": {**TINY["search"], "asha_tie_break": "crowd"}}
    with pytest.raises(SpaceError, match="asha_tie_break") as error:
        resolve_experiment(str(write_space(space)), {})
    assert "crowding" in str(error.value) and len(str(error.value).splitlines()) == 1


def test_a_resumed_book_decides_as_the_uninterrupted_one_when_points_nearly_tie():
    from nas.runs.curves import compact_history, expand_history

    # accuracies on 120 images (k / 120), as a search on limit 600 reports them
    earlier = [(0, 12 / 120, 277696.0), (1, 20 / 120, 609056.0), (2, 15 / 120, 277696.0)]
    earlier += [(3, 8 / 120, 114672.0), (4, 14 / 120, 277696.0)]
    live = RungBook(Ladder(1, 3, 3), ACC_FLOPS)
    resumed = RungBook(Ladder(1, 3, 3), ACC_FLOPS)
    for number, accuracy, flops in earlier:
        live.report(number, 1, [accuracy, flops])
        stored = expand_history(compact_history([{"epoch": 1, "accuracy": accuracy}]))[0]
        resumed.replay(number, [(1, [stored["accuracy"], flops])])
    # trial 5 ties trial 1 on accuracy (20/120) with fewer FLOPs: it dominates trial 1
    assert resumed.report(5, 1, [20 / 120, 225088.0]) == live.report(5, 1, [20 / 120, 225088.0])
    assert live.report(5, 1, [20 / 120, 225088.0])
