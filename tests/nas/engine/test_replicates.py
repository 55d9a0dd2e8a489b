"""Duplicates become replicates: a re-proposed architecture trains with a fresh seed."""

from __future__ import annotations

import optuna

from nas.engine.replicates import SEED_STEP, ReplicateBook, architecture_key
from nas.runs import format as rf

ARCH = {"name": "demo-3", "stem": {"type": "conv", "width": 16}, "stages": []}
TRAIN = {"epochs": 6, "lr": 0.002, "seed": 0, "threads": 1}


def _ask(study: optuna.Study, book: ReplicateBook, key: str) -> optuna.Trial:
    trial = study.ask()
    for name, value in book.assign(trial, key, base_seed=0).items():
        trial.set_user_attr(name, value)
    return trial


def test_the_key_ignores_name_and_seed_but_not_the_recipe() -> None:
    key = architecture_key(ARCH, TRAIN)
    assert architecture_key({**ARCH, "name": "demo-7"}, {**TRAIN, "seed": 1000}) == key
    assert architecture_key(ARCH, {**TRAIN, "lr": 0.003}) != key
    assert architecture_key({**ARCH, "stem": {"type": "conv", "width": 24}}, TRAIN) != key


def test_a_reproposal_gets_a_fresh_seed_and_names_the_first_trial() -> None:
    study = optuna.create_study()
    book = ReplicateBook()
    first, other, again, third = (_ask(study, book, k) for k in ("a", "b", "a", "a"))
    assert rf.ATTR_REPLICATE_OF not in first.user_attrs and first.user_attrs["train_seed"] == 0
    assert rf.ATTR_REPLICATE_OF not in other.user_attrs
    assert again.user_attrs[rf.ATTR_REPLICATE_OF] == first.number
    assert again.user_attrs[rf.ATTR_TRAIN_SEED] == SEED_STEP
    assert third.user_attrs[rf.ATTR_TRAIN_SEED] == 2 * SEED_STEP


def test_a_resumed_search_remembers_and_a_rerun_keeps_its_seed() -> None:
    study = optuna.create_study()
    book = ReplicateBook()
    first = _ask(study, book, "a")
    interrupted = _ask(study, book, "a")  # replicate 1, then abandoned by a stopped search
    interrupted.set_user_attr(rf.ATTR_INTERRUPTED, True)
    study.tell(interrupted, state=optuna.trial.TrialState.FAIL)
    study.enqueue_trial({}, user_attrs={rf.ATTR_RETRY_OF: interrupted.number})
    resumed = ReplicateBook()  # a new process: it reads the study
    rerun = _ask(study, resumed, "a")
    assert rerun.user_attrs[rf.ATTR_RETRY_OF] == interrupted.number
    assert rerun.user_attrs[rf.ATTR_REPLICATE_OF] == first.number
    assert rerun.user_attrs[rf.ATTR_TRAIN_SEED] == SEED_STEP  # the seed it was to train with
    later = _ask(study, resumed, "a")
    assert later.user_attrs[rf.ATTR_TRAIN_SEED] == 2 * SEED_STEP
