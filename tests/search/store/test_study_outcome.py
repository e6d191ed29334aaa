"""An outcome told to Optuna is written field by field, the status last: a driver killed between
two writes leaves a trial that reads as not told yet, never a status without a kind."""

from __future__ import annotations

import optuna

from search.core.outcome import ASHA, PRUNED, Outcome
from search.store.study import KIND_ATTR, STATUS_ATTR, record_outcome, told_outcome

OUTCOME = Outcome(PRUNED, ASHA, "below its rung's cut-off", 60)


class Killed(Exception):
    """The driver's death, between two records of the journal."""


def test_every_field_before_the_status_so_a_kill_between_leaves_it_untold():
    for writes_before_the_kill in range(5):
        study = optuna.create_study()
        trial = study.ask()
        real, written = trial.set_user_attr, []

        def set_then_die(key, value, real=real, written=written, budget=writes_before_the_kill):
            if len(written) == budget:
                raise Killed
            written.append(key)
            real(key, value)

        trial.set_user_attr = set_then_die
        try:
            record_outcome(trial, OUTCOME)
        except Killed:
            pass
        assert told_outcome(study.trials[0]) is None, written
    study = optuna.create_study()
    trial = study.ask()
    record_outcome(trial, OUTCOME)
    assert told_outcome(study.trials[0]) == OUTCOME


def test_a_status_without_its_kind_left_by_an_earlier_basin_reads_as_not_told():
    study = optuna.create_study()
    study.ask().set_user_attr(STATUS_ATTR, "pruned")
    assert KIND_ATTR not in study.trials[0].user_attrs
    assert told_outcome(study.trials[0]) is None
