"""The driver's bookkeeping of every outcome, with Tune's calls played by hand (no Ray):
what Optuna is told, what the trial records, what counts towards --trials."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from ray.tune.search import Searcher

from nas.engine.chooser import architecture_params
from nas.engine.config import resolve_experiment
from nas.engine.plan import TrialPlan
from nas.engine.searcher import StudySearcher
from nas.engine.study import count_decided, recover_interrupted
from nas.runs import format as rf
from search_space import load_space, sample_architecture
from search_space.sampling import FixedChooser

SPACE = {
    "name": "tiny",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [8, 64], "stride": 2},
    "stages": [
        {
            "block": ["resnet", "mbconv"],
            "depth": 1,
            "width": [8, 16],
            "stride": 2,
            "kernel": 3,
            "expansion": 2,
        }
    ],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 200},
    "train": {"epochs": 3},
}


@pytest.fixture
def setup(write_space, tmp_path):
    """A searcher over an in-memory study; `finished` collects (number, state)."""

    def make(target: int = 5, constraint: str | None = None):
        overrides = {"search": {"trials": target, "output": str(tmp_path / "run")}}
        if constraint:
            overrides["search"]["constraint_flags"] = [constraint]
        experiment = resolve_experiment(str(write_space(SPACE)), overrides)
        study = optuna.create_study(
            directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0)
        )
        finished: list[tuple[int, str]] = []
        searcher = StudySearcher(
            study,
            TrialPlan(experiment),
            target,
            lambda number, state, attrs: finished.append((number, state)),
        )
        return searcher, study, finished, experiment

    return make


def _widest(space_doc: dict) -> dict:
    """The space's biggest candidate: stem 64 wide, a 16-wide resnet stage."""
    space = load_space(space_doc)
    stage = {k: v for k, v in space_doc["stages"][0].items() if k != "expansion"}
    fixed = {
        **space_doc,
        "stem": {**space_doc["stem"], "width": 64},
        "stages": [{**stage, "block": "resnet", "width": 16}],
    }
    arch = sample_architecture(load_space(fixed), FixedChooser())
    return architecture_params(space, arch, "widest")


def _final(payload: dict) -> dict:
    return {"payload": json.dumps({"final": True, **payload})}


def test_an_infeasible_candidate_is_told_and_never_handed_to_tune(setup) -> None:
    searcher, study, finished, experiment = setup(target=10, constraint="params<=6000")
    study.enqueue_trial(_widest(SPACE))
    config = searcher.suggest("tune-1")
    infeasible = study.trials[0]
    assert config["number"] != 0  # trial 0 stayed in the driver
    assert infeasible.state == TrialState.COMPLETE
    assert infeasible.user_attrs[rf.ATTR_STATE] == rf.INFEASIBLE
    assert infeasible.constraints["params_max"] > 0  # Optuna's own view: infeasible
    metrics = infeasible.user_attrs[rf.ATTR_METRICS]
    assert metrics["params"] > 6000 and "accuracy" not in metrics
    assert infeasible.user_attrs[rf.ATTR_EPOCHS] == 0
    assert "train" not in infeasible.user_attrs[rf.ATTR_SECONDS]
    assert infeasible.values[0] == 0.0  # accuracy's floor, never preferred
    assert infeasible.user_attrs[rf.ATTR_ERROR].startswith("infeasible: params ")
    assert finished[0] == (0, rf.INFEASIBLE)
    record = json.loads((experiment.run_dir / "trials" / "0" / rf.METRICS_FILE).read_text())
    assert record["state"] == rf.INFEASIBLE
    assert not (experiment.run_dir / "trials" / "0" / rf.WEIGHTS_FILE).exists()


def test_a_completed_trial_is_told_its_objective_values(setup) -> None:
    searcher, study, _finished, _ = setup()
    config = searcher.suggest("a")
    searcher.on_trial_complete(
        "a",
        _final(
            {
                "metrics": {**config["counts"], "accuracy": 0.8},
                "epochs": 3,
                "seconds": {"train": 2.0},
            }
        ),
    )
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert trial.values == [0.8, config["counts"]["flops"]]
    assert trial.user_attrs[rf.ATTR_STATE] == rf.COMPLETE
    assert trial.user_attrs[rf.ATTR_SECONDS]["train"] == 2.0
    assert count_decided(study) == 1


def test_an_exception_in_the_worker_is_a_failed_trial_with_its_reason(setup) -> None:
    searcher, study, finished, _ = setup()
    searcher.suggest("a")
    searcher.on_trial_complete("a", _final({"failed": True, "error": "TrainingFailed: nan"}))
    trial = study.trials[0]
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[rf.ATTR_ERROR] == "TrainingFailed: nan"
    assert finished == [(0, rf.FAILED)]
    assert count_decided(study) == 1  # failures count: the search always ends


def test_a_worker_that_died_for_good_is_failed_once_its_reason_arrives(setup) -> None:
    searcher, study, _finished, _ = setup()
    searcher.suggest("a")
    searcher.record_retry("a")
    searcher.on_trial_complete("a", error=True)
    assert study.trials[0].state == TrialState.RUNNING
    searcher.record_worker_error("a", "Worker exit detail: killed", attempts=3)
    trial = study.trials[0]
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[rf.ATTR_ERROR] == "worker died 3 time(s): Worker exit detail: killed"


def test_a_trial_stopped_by_asha_keeps_its_last_epoch(setup) -> None:
    searcher, study, _finished, _ = setup()
    searcher.suggest("a")
    epoch = {"epoch": 1, "accuracy": 0.4, "loss": 1.5}
    searcher.on_trial_result("a", {"epoch": 1, "payload": json.dumps(epoch)})
    searcher.stopped_by_scheduler.add("a")
    second = {"epoch": 2, "accuracy": 0.5, "loss": 1.2}
    searcher.on_trial_complete("a", {"epoch": 2, "payload": json.dumps(second)})
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs[rf.ATTR_STATE] == rf.STOPPED_EARLY
    assert trial.user_attrs[rf.ATTR_METRICS]["accuracy"] == 0.5
    assert trial.user_attrs[rf.ATTR_EPOCHS] == 2
    assert [h["epoch"] for h in trial.user_attrs[rf.ATTR_HISTORY]] == [1, 2]


def test_a_trial_cut_off_by_the_end_of_the_experiment_is_left_for_recovery(setup) -> None:
    searcher, study, finished, _ = setup(target=2)
    searcher.suggest("a")
    searcher.on_trial_complete("a", {"epoch": 1, "payload": json.dumps({"epoch": 1})})
    assert study.trials[0].state == TrialState.RUNNING and finished == []
    assert recover_interrupted(study, "test") == [0]
    assert recover_interrupted(study, "test") == []  # idempotent
    interrupted, retry = study.get_trials(deepcopy=False)
    assert interrupted.state == TrialState.FAIL
    assert interrupted.user_attrs[rf.ATTR_INTERRUPTED] is True
    assert retry.state == TrialState.WAITING and retry.user_attrs[rf.ATTR_RETRY_OF] == 0
    assert count_decided(study) == 0  # interrupted trials do not count
    searcher.decided = count_decided(study)
    searcher.suggest("b")
    assert study.trials[1].params == interrupted.params  # the same candidate runs again


def test_the_searcher_finishes_when_decided_and_running_reach_the_target(setup) -> None:
    searcher, study, _finished, _ = setup(target=2)
    assert isinstance(searcher.suggest("a"), dict)
    assert isinstance(searcher.suggest("b"), dict)
    assert searcher.suggest("c") == Searcher.FINISHED
    assert len(study.trials) == 2


def test_a_run_folder_gets_the_arch_of_every_dispatched_trial(setup) -> None:
    searcher, _study, _finished, experiment = setup()
    searcher.suggest("a")
    arch_file = Path(experiment.run_dir) / "trials" / "0" / rf.ARCH_FILE
    assert load_space(arch_file).free_parameters() == []
