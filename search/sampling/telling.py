"""What Optuna is told of a trial, in one place: the state and values of a trial that ended
(``told``), and the outcomes of the trials basin ends for Optuna itself: one a fault of the
machine ended and no resume continued (``lost``), one the driver stopped before Ray recorded it
(``orphaned``). How the outcome is stored in the study is ``search/store/study.py``; when each
is told is the searcher's (``search/tune/optuna_search.py``) and the sweep's end
(``search/store/records.py`` ``tell_faults``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from optuna.trial import TrialState

from search.core.outcome import (
    COMPLETED,
    FAILED,
    LOST,
    NO_OBJECTIVE,
    ORPHANED,
    PRUNED,
    STOPPED,
    Outcome,
)

# The Optuna state each status is told as: a stopped trial completed (its best checkpoint is a
# real result), a pruned one did not.
STATES = {COMPLETED: TrialState.COMPLETE, STOPPED: TrialState.COMPLETE,
          PRUNED: TrialState.PRUNED, FAILED: TrialState.FAIL}


@dataclass(frozen=True)
class Told:
    """What Optuna hears of one trial: its outcome (kept in the study), state and values."""

    outcome: Outcome
    state: TrialState
    values: float | list[float] | None


def told_values(best: float | None, drift: float | None, objectives: int
                ) -> float | list[float] | None:
    """What a COMPLETE trial is told: its best objective, and in a two-objective study (made by
    basin 0.1's ``search.multi_objective``, resumed as it was made) also the drift at that
    checkpoint; None when one is not a finite number (told FAIL: TPE cannot place it)."""
    figures = [best] if objectives == 1 else [best, drift]
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in figures):
        return None
    return float(figures[0]) if objectives == 1 else [float(x) for x in figures]


def told(outcome: Outcome, best: float | None, drift: float | None, objectives: int) -> Told:
    """What a trial that ended with ``outcome`` is told. A trial that would complete without a
    finite objective (or drift, with two objectives) fails instead (``no objective``), and one
    without a finite objective is left out of the choice as well."""
    if STATES[outcome.status] != TrialState.COMPLETE:
        return Told(outcome, STATES[outcome.status], None)
    values = told_values(best, drift, objectives)
    if values is None:
        what = "objective" if best is None or not math.isfinite(best) else "drift"
        outcome = Outcome(FAILED, NO_OBJECTIVE, f"no finite {what} was reported", outcome.step,
                          excluded=what == "objective")
        return Told(outcome, TrialState.FAIL, None)
    return Told(outcome, TrialState.COMPLETE, values)


def lost(reason: str) -> Told:
    """A trial a fault of the machine ended (its retries spent) that no ``basin resume``
    continued: told FAIL when the sweep ends, left out of the choice."""
    return Told(Outcome(FAILED, LOST, reason, excluded=True), TrialState.FAIL, None)


def orphaned() -> Told:
    """A trial the driver stopped before Ray recorded it: told FAIL, its configuration queued
    again for the resumed sweep."""
    return Told(Outcome(FAILED, ORPHANED, "the driver stopped before Ray recorded it; its "
                        "configuration was queued again", excluded=True), TrialState.FAIL, None)
