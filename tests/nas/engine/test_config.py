"""The experiment config: objectives, constraints, the search: section, flags over files,
what --resume may change, and the Optuna bridge of the define-by-run space. No Ray here."""

from __future__ import annotations

import io
import math
from pathlib import Path

import optuna
import pytest
import yaml

from nas.engine.chooser import OptunaChooser, architecture_params
from nas.engine.config import resolve_experiment
from nas.engine.constraints import Constraint, merge, parse_constraint_text, parse_constraints
from nas.engine.objectives import objective_values, parse_objectives
from nas.engine.progress import Progress
from nas.engine.samplers import SAMPLERS, make_sampler
from nas.engine.settings import SearchConfig, validate_run_config
from nas.runs.pareto import MAXIMIZE, MINIMIZE, Objective
from search_space import RandomChooser, SpaceError, load_space, sample_architecture

TINY = {
    "name": "tiny",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [8, 16], "stride": 2},
    "stages": [
        {
            "block": ["resnet", "mbconv", "attention"],
            "depth": 1,
            "width": [16, 32],
            "stride": 2,
            "kernel": [3, 5],
            "expansion": [2, 4],
            "heads": [2, 4],
        }
    ],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 200},
    "train": {"epochs": 1},
    "search": {
        "trials": 7,
        "objectives": {"accuracy": "max", "params": "min"},
        "constraints": {"flops": {"max": 1.0e7}},
    },
}


# --- objectives -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accuracy:max,flops:min", [("accuracy", MAXIMIZE), ("flops", MINIMIZE)]),
        (
            "accuracy,params,latency",
            [("accuracy", MAXIMIZE), ("params", MINIMIZE), ("latency", MINIMIZE)],
        ),
        ("loss:minimize, flops:maximize", [("loss", MINIMIZE), ("flops", MAXIMIZE)]),
    ],
)
def test_objectives_parse_names_and_directions(text: str, expected: list) -> None:
    assert [(o.name, o.direction) for o in parse_objectives(text)] == expected


def test_objectives_from_yaml_mapping_keep_their_order() -> None:
    objectives = parse_objectives({"flops": "min", "accuracy": "max", "params": "min"})
    assert [o.name for o in objectives] == ["flops", "accuracy", "params"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("acuracy:max", "did you mean 'accuracy'"),
        ("accuracy:up", "'up' is not max or min"),
        ("accuracy,accuracy", "named twice"),
        ("", "at least one objective"),
    ],
)
def test_bad_objectives_are_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        parse_objectives(spec)


def test_unmeasured_objectives_take_their_worst_value() -> None:
    objectives = parse_objectives("accuracy:max,flops:min,latency:min")
    assert objective_values(objectives, {"flops": 3.0}) == [0.0, 3.0, math.inf]


# --- constraints ------------------------------------------------------------------------


def test_constraint_text_parses_bound_and_side() -> None:
    assert parse_constraint_text("flops<=2e7") == Constraint("flops", 2e7, upper=True)
    assert parse_constraint_text(" params >= 1_000 ") == Constraint("params", 1000.0, upper=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flops=2e7", "is not METRIC<=VALUE"),
        ("accuracy<=0.9", "cannot constrain 'accuracy' before training"),
        ("flop<=1e6", "did you mean 'flops'"),
        ("params<=-5", "must be positive"),
    ],
)
def test_bad_constraints_are_refused(text: str, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        parse_constraint_text(text)


def test_violation_is_relative_and_nonpositive_when_satisfied() -> None:
    upper, lower = Constraint("flops", 100.0), Constraint("params", 10.0, upper=False)
    assert upper.violation(50.0) == -0.5
    assert upper.violation(300.0) == 2.0  # three times the bound: 200% over
    assert lower.violation(5.0) == 0.5


def test_yaml_constraint_forms_agree() -> None:
    long = parse_constraints({"flops": {"max": 2e7}, "params": {"min": 10}})
    short = parse_constraints(["flops<=2e7", "params>=10"])
    assert long == short


def test_flag_constraints_replace_the_file_bound_of_the_same_metric_only() -> None:
    base = parse_constraints({"flops": {"max": 2e7}, "params": {"max": 1e6}})
    merged = merge(base, [parse_constraint_text("flops<=1e7")])
    assert sorted((c.metric, c.bound) for c in merged) == [("flops", 1e7), ("params", 1e6)]


def test_every_bad_constraint_of_a_file_is_reported_at_once(nas, write_space) -> None:
    constraints = {
        "accuracy": {"max": 0.9},  # not known before training
        "flops": {"max": -5},  # not positive
        "params": {"most": 1e6},  # not max or min
        "latency": "fast",  # two problems in one: the metric and the bound
    }
    result = nas("validate", write_space({**TINY, "search": {"constraints": constraints}}))
    assert result.code == 2
    lines = [line.split("space.yaml: ", 1)[1] for line in result.err.strip().splitlines()]
    assert lines == [
        "search.constraints.accuracy: cannot constrain 'accuracy' before training; "
        "constrain one of flops, params",
        "search.constraints.flops: the bound -5 on flops must be positive",
        "search.constraints.params.most: unknown bound; use max or min",
        "search.constraints.latency: cannot constrain 'latency' before training; "
        "constrain one of flops, params",
        "search.constraints.latency.max: 'fast' is not a finite number",
    ]


def test_every_bad_constraint_text_is_reported_at_once() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_constraints(["flops=2e7", "flop<=1e6", "params<=1e6", "params<=2e6"], "--constraint")
    assert caught.value.problems == [
        "--constraint: 'flops=2e7' is not METRIC<=VALUE or METRIC>=VALUE, e.g. flops<=2e7",
        "--constraint: cannot constrain 'flop' (did you mean 'flops'?) before training; "
        "constrain one of flops, params",
        "--constraint: more than one bound for params_max",
    ]


# --- the search: section ------------------------------------------------------------------


def test_search_section_unknown_key_suggests_the_right_one() -> None:
    with pytest.raises(SpaceError) as error:
        SearchConfig.from_dict({"trails": 5, "sampler": "tpee", "cpus_per_trial": 0})
    problems = error.value.problems
    assert any("search.trails: unknown setting (did you mean 'trials'?)" in p for p in problems)
    assert any(
        p.startswith("search.sampler: 'tpee'") and "did you mean 'tpe'" in p for p in problems
    )
    assert any(p.startswith("search.cpus_per_trial: 0") for p in problems)


def test_a_flop_convention_typo_is_refused_with_the_known_ones() -> None:
    assert SearchConfig.from_dict({"flop_convention": "nb201"}).flop_convention == "nb201"
    with pytest.raises(SpaceError, match=r"search.flop_convention: 'nb-201'.*did you mean 'nb201'"):
        SearchConfig.from_dict({"flop_convention": "nb-201"})


def test_search_section_round_trips_through_its_yaml_form() -> None:
    config = SearchConfig.from_dict(TINY["search"] | {"seed_archs": ["a.yaml"], "seed": 3})
    again = SearchConfig.from_dict(
        yaml.safe_load(yaml.safe_dump({k: v for k, v in config.to_dict().items() if k != "output"}))
    )
    assert again == config


@pytest.mark.parametrize("address", ["auto", "127.0.0.1:6379", "head-node:10001"])
def test_ray_addresses_are_auto_or_host_port(address: str) -> None:
    assert SearchConfig.from_dict({"address": address}).address == address


def test_a_bad_ray_address_is_refused() -> None:
    with pytest.raises(SpaceError, match="is not 'auto' or HOST:PORT"):
        SearchConfig.from_dict({"address": "ray://x"})


def test_validate_run_config_names_file_section_and_key() -> None:
    with pytest.raises(SpaceError) as error:
        validate_run_config({"train": {"epoch": 3}, "search": {"trials": 0}}, "space.yaml")
    problems = error.value.problems
    assert any(p.startswith("space.yaml: train.epoch: unknown setting") for p in problems)
    assert any(p.startswith("space.yaml: search.trials: 0 must be") for p in problems)


# --- the experiment: file sections and flags ---------------------------------------------


def test_flags_win_over_the_space_file(write_space) -> None:
    path = write_space(TINY)
    experiment = resolve_experiment(
        str(path),
        {
            "data": {"name": "mnist5k"},
            "train": {"epochs": 2},
            "search": {"trials": 3, "sampler": "random", "constraint_flags": ["flops<=5e6"]},
        },
    )
    assert experiment.train.epochs == 2
    assert experiment.data.limit == 200  # from the file
    assert (experiment.search.trials, experiment.search.sampler) == (3, "random")
    assert experiment.search.constraints == (Constraint("flops", 5e6),)
    assert [o.name for o in experiment.search.objectives] == ["accuracy", "params"]
    assert experiment.run_dir.parent == Path("results")
    assert experiment.run_dir.name.startswith("tiny-")


def test_no_space_means_the_bundled_demo() -> None:
    experiment = resolve_experiment(None, {})
    assert experiment.space.name == "demo"
    assert experiment.data.name == "mnist5k"


def test_config_yaml_is_a_loadable_space_with_the_resolved_sections(write_space, tmp_path) -> None:
    experiment = resolve_experiment(str(write_space(TINY)), {"search": {"trials": 2}})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(experiment.to_document()))
    space = load_space(path)
    validate_run_config(space.run_config, str(path))
    assert space.run_config["search"]["trials"] == 2


def _started_run(write_space, tmp_path) -> Path:
    experiment = resolve_experiment(
        str(write_space(TINY)), {"search": {"output": str(tmp_path / "run")}}
    )
    experiment.run_dir.mkdir()
    (experiment.run_dir / "config.yaml").write_text(yaml.safe_dump(experiment.to_document()))
    return experiment.run_dir


def test_resume_may_change_how_but_not_what_it_searches(write_space, tmp_path) -> None:
    run = _started_run(write_space, tmp_path)
    resumed = resolve_experiment(
        None, {"search": {"output": str(run), "trials": 9, "max_concurrent": 1}}, resume=True
    )
    assert (resumed.search.trials, resumed.search.max_concurrent, resumed.resume) == (9, 1, True)
    with pytest.raises(SpaceError, match=r"search\.objectives, search\.sampler differ"):
        resolve_experiment(
            None,
            {"search": {"output": str(run), "sampler": "random", "objectives": "accuracy"}},
            resume=True,
        )
    with pytest.raises(SpaceError, match=r"train\.epochs differ"):
        resolve_experiment(
            None, {"search": {"output": str(run)}, "train": {"epochs": 5}}, resume=True
        )


def test_resume_needs_a_run_folder(tmp_path) -> None:
    with pytest.raises(SpaceError, match="--output DIR"):
        resolve_experiment(None, {}, resume=True)
    # an empty folder (or one holding only the lock): a start cut short, started again
    with pytest.raises(SpaceError, match=r"start it again without --resume"):
        resolve_experiment(None, {"search": {"output": str(tmp_path)}}, resume=True)
    (tmp_path / "notes.txt").write_text("not a run")
    with pytest.raises(SpaceError, match=r"has no config\.yaml"):
        resolve_experiment(None, {"search": {"output": str(tmp_path)}}, resume=True)


def test_resume_refuses_a_different_space(write_space, tmp_path) -> None:
    run = _started_run(write_space, tmp_path)
    with pytest.raises(SpaceError, match="is not the space this run searches"):
        resolve_experiment("demo", {"search": {"output": str(run)}}, resume=True)
    same = resolve_experiment(
        str(tmp_path / "space.yaml"), {"search": {"output": str(run)}}, resume=True
    )
    assert same.space.name == "tiny"


# --- Optuna bridge ------------------------------------------------------------------------


def _sample(study: optuna.Study, space):
    trial = study.ask()
    arch = sample_architecture(space, OptunaChooser(trial))
    return trial, arch


def test_optuna_suggests_only_the_keys_a_chosen_block_reads() -> None:
    space = load_space(TINY)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(30):
        trial, arch = _sample(study, space)
        block = arch.stages[0].block
        seen.add(block)
        keys = set(trial.params)
        assert ("stages[0].heads" in keys) == (block == "attention")
        assert ("stages[0].expansion" in keys) == (block == "mbconv")
        assert ("stages[0].kernel" in keys) == (block != "attention")
        study.tell(trial, 0.0)
    assert seen == {"resnet", "mbconv", "attention"}


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_is_reproducible_from_its_seed(name: str) -> None:
    space = load_space(TINY)

    def summaries(seed: int) -> list[str]:
        study = optuna.create_study(
            directions=["maximize", "minimize"], sampler=make_sampler(name, seed=seed, trials=8)
        )
        out = []
        for i in range(8):
            trial, arch = _sample(study, space)
            out.append(arch.summary())
            study.tell(trial, [i % 3 / 3.0, float(len(arch.summary()))])
        return out

    assert summaries(5) == summaries(5)


def test_unknown_sampler_is_refused() -> None:
    with pytest.raises(SpaceError, match="did you mean 'nsga2'"):
        make_sampler("nsga", seed=0, trials=5)


def test_a_seed_architecture_becomes_the_first_trial() -> None:
    space = load_space(TINY)
    known = sample_architecture(space, RandomChooser(11))
    study = optuna.create_study()
    study.enqueue_trial(architecture_params(space, known, "seed"))
    _, arch = _sample(study, space)
    assert arch.to_dict(run_config=False) | {"name": None} == known.to_dict(run_config=False) | {
        "name": None
    }


def test_a_seed_architecture_outside_the_space_is_refused() -> None:
    space = load_space(TINY)
    other = load_space({**TINY, "stem": {"type": "conv", "width": 12, "stride": 2}})
    arch = sample_architecture(other, RandomChooser(0))
    with pytest.raises(SpaceError, match=r"stem.width is 12, which the space does not offer"):
        architecture_params(space, arch, "big.yaml")


# --- progress --------------------------------------------------------------------------


def test_progress_line_counts_states_and_estimates_the_rest() -> None:
    stream = io.StringIO()
    progress = Progress(target=4, done=0, stream=stream, live=False)
    progress.started -= 60  # a minute in
    progress.trial_finished(0, "complete", {"metrics": {"accuracy": 0.9, "flops": 2e6}})
    progress.trial_finished(
        1, "infeasible", {"metrics": {"flops": 9e7}, "error": "infeasible: flops 9e+07 > 2e+07"}
    )
    lines = stream.getvalue().splitlines()
    assert "acc 0.900" in lines[0] and "flops 2M" in lines[0]
    assert lines[2].startswith("trial   1 infeasible") and "9e+07 > 2e+07" in lines[2]
    status = progress.status()
    assert status.startswith("[2/4] 1 complete, 0 stopped, 0 failed, 1 infeasible")
    assert "ETA 1m0" in status  # two left at 30 s each


def test_eta_learns_from_finished_trials_not_from_the_start_up() -> None:
    progress = Progress(target=6, done=0, stream=io.StringIO(), live=False)
    progress.started -= 600  # ten minutes of start-up (Ray, imports, a decode) before any trial
    progress.tick(2)  # two trials at once
    for number in (0, 1):
        attrs = {"metrics": {"accuracy": 0.9}, "seconds": {"total": 30.0}}
        progress.trial_finished(number, "complete", attrs)
    # 4 left, 30 s each, 2 at a time: 60 s (the old rate, 600 s / 2 trials x 4, said 20 min)
    assert progress.eta(elapsed=660.0) == pytest.approx(60.0)
    assert "ETA 1m00s" in progress.status()


def test_redirected_output_shows_the_first_start_and_a_heartbeat() -> None:
    stream = io.StringIO()
    progress = Progress(target=3, done=0, stream=stream, live=False, heartbeat_s=3600)
    progress.tick(0)
    assert stream.getvalue() == ""  # nothing has started yet
    progress.tick(2)
    progress.tick(2)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "2 running" in lines[0]  # once, when the first trials start
    progress.heartbeat_s = 0.0
    progress.tick(2)
    assert len(stream.getvalue().splitlines()) == 2  # then a line per heartbeat


def test_objective_records_match_the_report_readers() -> None:
    from nas.engine.objectives import to_records
    from nas.runs.pareto import parse_objectives as report_parse

    objectives = parse_objectives("accuracy:max,flops:min")
    assert report_parse(to_records(objectives)) == objectives
    assert all(isinstance(o, Objective) for o in objectives)


def test_seed_architectures_named_in_a_space_file_are_found_beside_it(
    write_space, tmp_path
) -> None:
    (tmp_path / "known.yaml").write_text("name: known\n")
    path = write_space({**TINY, "search": {"seed_archs": ["known.yaml", "resnet18"]}})
    experiment = resolve_experiment(str(path), {})
    assert experiment.search.seed_archs == (str(tmp_path / "known.yaml"), "resnet18")
