"""A trial Ray ended on a fault of the machine, that no ``basin resume`` continued, is told to
Optuna as FAIL (kind ``lost``) when its sweep ends: once, and only it."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from search.core.outcome import BUDGET, COMPLETED, ERROR, FAILED, LOST, Outcome
from search.core.record import TrialRecord
from search.spec.model import load_spec
from search.store.records import tell_faults
from search.store.rundir import RunDir
from search.store.study import RAY_TRIAL_ATTR, open_storage, told_outcome


def test_a_faulted_trial_left_untold_is_told_lost_when_the_sweep_ends(sweep_factory):
    run = RunDir.create(load_spec(sweep_factory()))
    study = optuna.create_study(study_name=run.path.name, storage=open_storage(run.path, None))
    # The searcher left the faulted trial untold (RUNNING), so that a resume could continue it.
    faulted, done = study.ask(), study.ask()
    faulted.set_user_attr(RAY_TRIAL_ATTR, "faulted")
    done.set_user_attr(RAY_TRIAL_ATTR, "done")
    study.tell(done, 0.5)
    records = [TrialRecord("faulted", Outcome(FAILED, ERROR, "RayActorError: the node died",
                                              excluded=True), {}),
               TrialRecord("done", Outcome(COMPLETED, BUDGET), {})]

    tell_faults(run, records)
    told = run.optuna_trials()
    assert told["faulted"].state == TrialState.FAIL
    outcome = told_outcome(told["faulted"])
    assert (outcome.status, outcome.kind) == (FAILED, LOST)
    assert outcome.reason == "RayActorError: the node died"
    assert told["done"].state == TrialState.COMPLETE and told["done"].value == 0.5
    # The sweep's end reads its trials once: the told record says what a new reading would.
    assert records[0].outcome == outcome
    tell_faults(run, records)  # a second finish tells nothing again
    assert [t.state for t in run.study().trials] == [TrialState.FAIL, TrialState.COMPLETE]
