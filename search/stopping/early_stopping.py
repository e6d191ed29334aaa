"""Classic early stopping: stop a trial whose objective has not improved for a while.

Unlike the gap rule it does not ask why (overfitting, or a plateau): after ``patience``
evaluations without an improvement of more than ``min_delta`` on the trial's best objective,
the trial is ``stopped``; its best checkpoint is its result and Optuna hears that objective.
"""

from __future__ import annotations

import math
from typing import ClassVar, Sequence

from pydantic import Field

from search.core.evaluation import Evaluation
from search.stopping.base import StopRule


class EarlyStopping(StopRule):
    """Stop after ``patience`` evaluations without improving the best objective."""

    kind: ClassVar[str] = "early-stopping"
    marker: ClassVar[str] = "s"

    patience: int = Field(3, ge=1, description="Evaluations without improvement.")
    min_delta: float = Field(0.0, ge=0, allow_inf_nan=False,
                             description="An improvement must beat the best by more than this.")
    grace_steps: int = Field(0, ge=0, description="The rule never stops a trial before this.")

    def reason(self, history: Sequence[Evaluation]) -> str | None:
        best: Evaluation | None = None
        since = 0
        for evaluation in history:
            if not math.isnan(evaluation.score) and (
                    best is None or evaluation.score < best.score - self.min_delta):
                best, since = evaluation, 0
            elif best is not None:
                since += 1
        last = history[-1]
        if best is None or since < self.patience or last.step <= self.grace_steps:
            return None
        return (f"no improvement for {since} evals since step {best.step} "
                f"(best objective {best.objective:.4f})")
