"""A search whose objectives are counted or looked up runs its trials in the driver, with
the same study, run folder and records as a Ray Tune search."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import pytest

import nas
from evaluators.tabular.nb201_counts import EDGES, nb201_counts
from evaluators.tabular.nb201_table import cell_string, load_table
from nas.runs import format as rf
from tests.evaluators.test_nb201_table import BEST_CIFAR10_CELL
from tests.search_space.test_nb201 import nb201_arch


@pytest.mark.slow
def test_a_tabular_search_records_the_tables_values_without_ray(tmp_path: Path) -> None:
    import ray

    from evaluators.tabular.nb201_table import edges_of

    seed = tmp_path / "best.yaml"
    seed.write_text(nb201_arch(edges_of(BEST_CIFAR10_CELL)).to_yaml())
    run_dir = tmp_path / "run"
    nas.search("nb201", trials=40, output=str(run_dir), seed_archs=[str(seed)])
    assert not ray.is_initialized()
    study = optuna.load_study(study_name="run", storage=f"sqlite:///{run_dir / rf.STUDY_FILE}")
    trials = study.get_trials()
    assert [t.number for t in trials] == list(range(40))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    table = load_table()
    for trial in trials:
        edges = {key: trial.params[f"tied.{key}"] for key in EDGES}
        row = table.index[cell_string(edges)]
        assert trial.values[0] == table.accuracy["nb201_cifar10"][row]
        assert trial.values[1] == nb201_counts(edges, convention="nb201")["flops"]
    assert trials[0].values[0] == pytest.approx(0.9437, abs=1e-4)  # the seed, queued first
    assert len(pd.read_csv(run_dir / rf.TRIALS_CSV)) == 40
    assert json.loads((run_dir / rf.RUN_FILE).read_text())["status"] == rf.FINISHED
    metrics = json.loads((run_dir / rf.TRIALS_DIR / "7" / rf.METRICS_FILE).read_text())
    assert metrics["metrics"]["nb201_cifar10"] == trials[7].values[0]
    assert "NAS-Bench-201" in metrics["flop_convention"]  # the space's search.flop_convention

    nas.search(trials=50, output=str(run_dir), resume=True)
    again = study.get_trials()
    assert len(again) == 50
    assert [t.params for t in again[:40]] == [t.params for t in trials]
