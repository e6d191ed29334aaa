"""One trial as every part of basin sees it, while it runs or once it has ended: its outcome,
its hyperparameters, the evaluations it reported and the checkpoints it kept
(``search/store/records.py`` reads them back from a run directory; the replay benchmark builds
them from learning-curve tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search.core.evaluation import EVALUATION_INPUTS
from search.core.outcome import RUNNING, Outcome
from trainables.contract import (
    DRIFT,
    GAP,
    STEP,
    VAL_DISTINCT_PREDICTIONS,
    finite,
)
from trainables.tasks import OBJECTIVE_METRICS

# What a record keeps of each report: enough to choose a checkpoint and to explain the choice.
EVALUATION_FIELDS: tuple[str, ...] = tuple(dict.fromkeys((
    *EVALUATION_INPUTS, GAP, VAL_DISTINCT_PREDICTIONS, DRIFT, *OBJECTIVE_METRICS)))


@dataclass
class TrialRecord:
    """What a user needs to know about one trial."""

    trial_id: str
    outcome: Outcome
    params: dict[str, Any]
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: dict[int, str] = field(default_factory=dict)  # step -> folder or URI
    optuna_number: int | None = None
    # A freezing scheduler's pauses and thaws of the trial, oldest first: {event, step, reason}.
    freezes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def frozen_at(self) -> int | None:
        """The step a trial is frozen at now (paused, thawable), or None."""
        if self.outcome.status == RUNNING and self.freezes and \
                self.freezes[-1]["event"] == "frozen":
            return self.freezes[-1]["step"]
        return None

    @property
    def state(self) -> str:
        """How the trial stands, as tables say it: its outcome's label, or ``frozen``."""
        return "frozen" if self.frozen_at is not None else self.outcome.label

    @property
    def thaws(self) -> list[dict[str, Any]]:
        return [event for event in self.freezes if event["event"] == "thawed"]

    @property
    def last_step(self) -> int | None:
        return self.evaluations[-1][STEP] if self.evaluations else None

    def best_evaluation(self, metric: str, mode: str) -> dict[str, Any] | None:
        """The evaluation with the best finite ``metric`` (the earliest of equals)."""
        scored = [row for row in self.evaluations if finite(row.get(metric)) is not None]
        if not scored:
            return None
        sign = 1 if mode == "min" else -1
        return min(scored, key=lambda row: (sign * row[metric], row[STEP]))

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data for results.json (checkpoint steps as strings: JSON keys)."""
        return {"trial_id": self.trial_id, "outcome": self.outcome.as_dict(),
                "params": self.params, "evaluations": self.evaluations,
                "checkpoints": {str(step): where for step, where in self.checkpoints.items()},
                "optuna_number": self.optuna_number, "freezes": self.freezes}
