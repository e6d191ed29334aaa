"""How a trial ended, as fields (status, kind, reason, step), never as text to parse.

The same fields travel everywhere a trial's end is recorded: the stop ledger (``stops.jsonl``),
the Optuna study's user attributes, ``results.json`` and the W&B run's summary.

status   what it means for the search and for the choice
---------------------------------------------------------------------------------------------
completed  trained its whole budget                          Optuna: COMPLETE (best objective)
stopped    a rule ended it because it had stopped learning   Optuna: COMPLETE (best objective)
           (it overfits, or its objective stopped improving)
pruned     not worth more training: ASHA's rung cut-off,     Optuna: PRUNED (its curve)
           a rule that found it not learning, a divergence
failed     it raised, or its process or node died            Optuna: FAIL
running    not finished (yet)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from trainables.contract import (
    IS_FINAL,
    OUTCOME,
    OUTCOME_DIVERGED,
    OUTCOME_FAILED,
    OUTCOME_REASON,
    STEP,
)


class Status(str, Enum):
    """How a trial ended, for the search and for the choice: the closed set above. A member is
    its string (``Status.COMPLETED == "completed"``), as files and Optuna store it."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    PRUNED = "pruned"
    FAILED = "failed"
    RUNNING = "running"

    def __str__(self) -> str:
        return self.value


COMPLETED, STOPPED, PRUNED, FAILED, RUNNING = Status
FINISHED = (COMPLETED, STOPPED, PRUNED, FAILED)

# What ended a trial, besides the stopping rules (each names its own kind: ``StopRule.kind``).
BUDGET = "budget"  # it trained its whole budget
ASHA = "asha"  # below its rung's cut-off
DIVERGED = "diverged"  # its loss became NaN or infinite
ERROR = "error"  # it raised
LOST = "lost"  # its worker or node died
ORPHANED = "orphaned"  # asked for by a driver that died before Ray recorded it
NO_OBJECTIVE = "no-objective"  # it ended without a finite objective to tell Optuna
FROZEN = "frozen"  # frozen below a rung's cut-off and never thawed (scheduler type freeze)
KINDS: tuple[str, ...] = (BUDGET, ASHA, DIVERGED, ERROR, LOST, ORPHANED, NO_OBJECTIVE, FROZEN)


@dataclass(frozen=True)
class Outcome:
    """How one trial ended. ``excluded``: none of its checkpoints may be handed on (it failed,
    diverged, or never learned anything)."""

    status: str  # a Status (a closed set), kept as its plain string
    kind: str
    reason: str = ""
    step: int | None = None
    excluded: bool = False

    def __post_init__(self) -> None:
        # A status outside the set fails here; files, Optuna and trackers get the plain string.
        object.__setattr__(self, "status", Status(self.status).value)

    @property
    def label(self) -> str:
        """``completed``, ``running``, or the status with its kind, e.g. ``stopped: gap``."""
        return self.status if self.status in (COMPLETED, RUNNING) else f"{self.status}: {self.kind}"

    @property
    def details(self) -> str:
        """What follows the label when the end is said: `` at step 75: overfitting: ...``."""
        where = f" at step {self.step}" if self.step is not None else ""
        return f"{where}: {self.reason}" if self.reason else where

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> Outcome:
        given = {name: fields[name] for name in cls.__dataclass_fields__ if name in fields}
        # Compatibility, remove in basin 0.3: studies written by basin 0.1 told an orphan the
        # status "orphaned"; it is a failed trial of kind "orphaned".
        if given.get("status") == ORPHANED:
            given["status"] = FAILED
        return cls(**given)


UNFINISHED = Outcome(RUNNING, RUNNING)


def trial_outcome(last_result: dict | None, error: bool, decision: Outcome | None,
                  step: int | None = None) -> Outcome:
    """The outcome of a trial that ended, from its last report, whether Tune saw an error, and
    the decision of a stopping rule (None if no rule stopped it).

    The trial's last report names a divergence or an error it caught; a Tune error means its
    process died. A trial that ended without its final report and without a rule's decision
    was stopped by the scheduler (ASHA).
    """
    result = last_result or {}
    step = result.get(STEP, step)
    step = int(step) if isinstance(step, (int, float)) and step == step else None
    reported = result.get(OUTCOME)
    if reported == OUTCOME_DIVERGED:
        return Outcome(PRUNED, DIVERGED, result.get(OUTCOME_REASON, ""), step, excluded=True)
    if reported == OUTCOME_FAILED:
        return Outcome(FAILED, ERROR, result.get(OUTCOME_REASON) or "the trial raised an error",
                       step, excluded=True)
    if error:
        return Outcome(FAILED, LOST, "the trial's worker or node died", step, excluded=True)
    if decision is not None:
        return decision
    if not result.get(IS_FINAL):
        return Outcome(PRUNED, ASHA, "below its rung's cut-off", step)
    return Outcome(COMPLETED, BUDGET, "trained its whole budget", step)
