"""A trial's outcome is recorded in one database transaction: a stop at any moment
leaves the trial RUNNING (a resume runs it again) or wholly recorded, never half."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState
from sqlalchemy import event

from nas.engine.outcome_record import record_outcome
from nas.runs import format as rf

ATTRS = {f"attr_{i}": {"value": i, "list": [i, i + 1]} for i in range(12)} | {
    rf.ATTR_STATE: rf.COMPLETE
}


def _study(tmp_path) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name="s",
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        directions=["maximize", "minimize"],
    )


class _Transactions:
    """The database transactions that wrote something (each by its number)."""

    def __init__(self, study: optuna.Study):
        self.begun, self.writing = 0, set()
        engine = study._storage._backend.engine
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "before_cursor_execute", self._execute)

    def _begin(self, *_: object) -> None:
        self.begun += 1

    def _execute(self, connection, cursor, statement: str, *_: object) -> None:
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.writing.add(self.begun)

    def reset(self) -> None:
        self.writing = set()


@pytest.mark.parametrize(
    ("state", "values"), [(TrialState.COMPLETE, [0.75, 2.5e6]), (TrialState.FAIL, None)]
)
def test_attributes_values_and_state_are_one_commit(tmp_path, state, values):
    study = _study(tmp_path)
    trial = study.ask()
    transactions = _Transactions(study)
    record_outcome(study, trial, ATTRS, values, state)
    assert len(transactions.writing) == 1
    # Optuna's own way, for reference: one transaction per attribute, one for the state.
    other = study.ask()
    transactions.reset()
    for key, value in ATTRS.items():
        other.set_user_attr(key, value)
    study.tell(other, values, state=state)
    assert len(transactions.writing) == len(ATTRS) + 1
    reread = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'study.db'}")
    for number in (trial.number, other.number):  # both ways record the same trial
        frozen = reread.trials[number]
        assert frozen.state == state and frozen.values == values
        assert frozen.user_attrs == ATTRS
        assert frozen.datetime_complete is not None


def test_a_trial_already_finished_is_refused_as_optuna_does(tmp_path):
    study = _study(tmp_path)
    trial = study.ask()
    record_outcome(study, trial, ATTRS, [0.5, 1.0], TrialState.COMPLETE)
    with pytest.raises(ValueError, match="Cannot tell a COMPLETE trial"):
        record_outcome(study, trial, ATTRS, [0.5, 1.0], TrialState.COMPLETE)
