"""The candidates a sweep may hand on: every (trial, evaluation step) that has a checkpoint.

A stopped trial is not a lost trial: a trial that a rule or ASHA stopped keeps its checkpoints,
and they compete with those of trials that trained their whole budget. Left out are trials
that failed, diverged or never learned (their outcome is ``excluded``), and checkpoints that
collapsed to one output (the same class predicted for every validation example).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from search.core.evaluation import Evaluation
from trainables.contract import (
    DRIFT,
    GAP,
    STEP,
    TRAIN_EVAL_LOSS,
    VAL_DISTINCT_PREDICTIONS,
    VAL_LOSS,
    VAL_LOSS_SE,
    finite,
)

if TYPE_CHECKING:
    from search.core.record import TrialRecord

COLLAPSED = "collapsed to one output"
# basin check's figures a candidate carries once it was measured (search/lifecycle/check.py).
CHECK_FIGURES = ("basin_radius", "seed_sd")


@dataclass(frozen=True)
class Candidate:
    """One checkpoint: which trial and step, its hyperparameters and what was measured there.
    ``score`` is the objective oriented so that lower is better."""

    trial_id: str
    step: int
    params: dict[str, Any]
    objective: float
    score: float
    val_loss: float | None
    val_loss_se: float | None
    train_eval_loss: float | None
    gap: float | None
    checkpoint: str
    trial_outcome: str
    # How far it moved from the base model on general inputs (trainables/tasks/retention.py;
    # None where the sweep did not measure it).
    drift: float | None = None
    # basin check's figures (search/lifecycle/check.py), once it has measured this candidate.
    basin_radius: float | None = None
    seed_sd: float | None = None

    @property
    def name(self) -> str:
        return f"trial {self.trial_id} at step {self.step}"

    def as_dict(self) -> dict[str, Any]:
        return {"trial_id": self.trial_id, STEP: self.step, "params": self.params,
                "objective": self.objective, VAL_LOSS: self.val_loss,
                VAL_LOSS_SE: self.val_loss_se, TRAIN_EVAL_LOSS: self.train_eval_loss, GAP: self.gap,
                "checkpoint": self.checkpoint, "trial_outcome": self.trial_outcome,
                **{name: getattr(self, name) for name in (DRIFT, *CHECK_FIGURES)
                   if getattr(self, name) is not None}}


@dataclass
class Pool:
    """The candidates, and which trials (by why) had none. ``fallback`` says why the pool holds
    checkpoints that are normally left out (no other checkpoint existed)."""

    candidates: list[Candidate]
    excluded: dict[str, list[str]] = field(default_factory=dict)
    fallback: str = ""


def candidate_at(record: TrialRecord, row: dict, metric: str, mode: str) -> Candidate | None:
    """The candidate of one evaluation of a trial; None without a checkpoint or objective."""
    step = finite(row.get(STEP))
    where = record.checkpoints.get(int(step)) if step is not None else None
    if where is None:
        return None
    return candidate_from(record.trial_id, record.params, row, metric, mode, where,
                          record.outcome.label)


def candidate_from(trial_id: str, params: dict[str, Any], row: dict, metric: str, mode: str,
                   checkpoint: str = "", outcome: str = "running") -> Candidate | None:
    """The candidate of one report of a trial (``row``); None without a finite objective.
    Also what the driver's keep policy judges as the reports arrive (a trial's last
    report of how it ended carries no step)."""
    if finite(row.get(STEP)) is None:
        return None
    evaluation = Evaluation.from_result(row, metric, mode)
    if finite(evaluation.objective) is None:
        return None
    return Candidate(
        trial_id=trial_id, step=evaluation.step, params=params,
        objective=evaluation.objective, score=evaluation.score,
        val_loss=finite(evaluation.val_loss), val_loss_se=finite(evaluation.val_loss_se),
        train_eval_loss=finite(evaluation.train_eval_loss), gap=finite(evaluation.gap),
        checkpoint=checkpoint, trial_outcome=outcome, drift=finite(row.get(DRIFT)))


def gather(records: list[TrialRecord], metric: str, mode: str) -> Pool:
    """Every eligible checkpoint of the sweep. When none is eligible but some trial saved a
    checkpoint, the pool holds every checkpoint there is (``fallback`` says so): basin always
    answers once a trial has reported an evaluation, and says how weak the answer is."""
    eligible: list[Candidate] = []
    others: list[Candidate] = []
    excluded: dict[str, list[str]] = defaultdict(list)
    for record in records:
        found = [c for row in record.evaluations
                 if (c := candidate_at(record, row, metric, mode)) is not None]
        collapsed = {row[STEP] for row in record.evaluations
                     if row.get(VAL_DISTINCT_PREDICTIONS) == 1}
        if record.outcome.excluded:
            excluded[record.outcome.kind].append(record.trial_id)
            others += found
            continue
        kept = [c for c in found if c.step not in collapsed]
        if found and not kept:
            excluded[COLLAPSED].append(record.trial_id)
        eligible += kept
        others += [c for c in found if c.step in collapsed]
    if eligible or not others:
        return Pool(eligible, dict(excluded))
    why = ", ".join(f"{kind}: {len(ids)}" for kind, ids in excluded.items())
    return Pool(others, dict(excluded),
                fallback=f"no eligible checkpoint ({why}); chosen among every checkpoint there "
                         "is, which may be no better than a constant prediction")
