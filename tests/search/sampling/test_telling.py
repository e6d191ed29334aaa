"""What Optuna is told of a trial (search/sampling/telling.py): one rule for every ending."""

from __future__ import annotations

import math

import pytest
from optuna.trial import TrialState

from search.core.outcome import (
    ASHA,
    BUDGET,
    COMPLETED,
    DIVERGED,
    FAILED,
    LOST,
    NO_OBJECTIVE,
    ORPHANED,
    PRUNED,
    STOPPED,
    Outcome,
)
from search.sampling.telling import lost, orphaned, told


@pytest.mark.parametrize(("outcome", "state"), [
    (Outcome(COMPLETED, BUDGET), TrialState.COMPLETE),
    (Outcome(STOPPED, "gap", step=30), TrialState.COMPLETE),  # its best checkpoint is real
])
def test_a_trial_with_a_result_is_told_its_best_objective(outcome: Outcome,
                                                          state: TrialState) -> None:
    ending = told(outcome, 0.42, None, objectives=1)
    assert (ending.state, ending.values, ending.outcome) == (state, 0.42, outcome)


def test_two_objectives_tell_the_drift_at_the_best_checkpoint_too() -> None:
    assert told(Outcome(COMPLETED, BUDGET), 0.42, 0.07, objectives=2).values == [0.42, 0.07]


@pytest.mark.parametrize("outcome", [Outcome(PRUNED, ASHA, step=15),
                                     Outcome(FAILED, DIVERGED, excluded=True)])
def test_a_trial_without_a_result_is_told_its_state_and_no_value(outcome: Outcome) -> None:
    ending = told(outcome, 0.42, None, objectives=1)
    assert (ending.state, ending.values, ending.outcome) == (
        {PRUNED: TrialState.PRUNED, FAILED: TrialState.FAIL}[outcome.status], None, outcome)


@pytest.mark.parametrize("best", [None, math.nan, math.inf])
def test_no_finite_objective_fails_the_trial_and_leaves_it_out_of_the_choice(best) -> None:
    ending = told(Outcome(COMPLETED, BUDGET, step=60), best, None, objectives=1)
    assert ending.state == TrialState.FAIL and ending.values is None
    assert ending.outcome == Outcome(FAILED, NO_OBJECTIVE, "no finite objective was reported",
                                     60, excluded=True)


def test_no_finite_drift_with_two_objectives_fails_but_keeps_its_checkpoints() -> None:
    ending = told(Outcome(COMPLETED, BUDGET), 0.42, math.nan, objectives=2)
    assert ending.state == TrialState.FAIL
    assert (ending.outcome.kind, ending.outcome.excluded) == (NO_OBJECTIVE, False)
    assert ending.outcome.reason == "no finite drift was reported"


def test_the_trials_basin_ends_for_optuna_are_told_fail_and_left_out() -> None:
    assert lost("worker died") == told(Outcome(FAILED, LOST, "worker died", excluded=True),
                                       None, None, objectives=1)
    ending = orphaned()
    assert (ending.state, ending.outcome.kind, ending.outcome.excluded) == (
        TrialState.FAIL, ORPHANED, True)
