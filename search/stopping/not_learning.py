"""The "not learning" rule: stop a trial that has learned nothing about its task.

A trial whose best validation loss, after a grace period, is still not below the loss of a
model that learned nothing (reported by the trial as ``baseline_loss``: for classification a
constant predictor of the training split's label frequencies, for a causal LM the untuned base
model) is ``pruned``, and none of its checkpoints is ever handed on: a
configuration that only learned the label prior is not a result, however long it trained.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from pydantic import Field

from search.core.evaluation import Evaluation
from search.core.outcome import PRUNED
from search.stopping.base import StopRule


class NotLearning(StopRule):
    """Stop a trial whose best validation loss is not below ``(1 - min_improvement)`` times the
    constant-prediction baseline once it is past ``grace_steps`` (default: half its steps)."""

    kind: ClassVar[str] = "not-learning"
    marker: ClassVar[str] = "D"
    status: ClassVar[str] = PRUNED
    excludes_trial: ClassVar[bool] = True

    grace_steps: int | None = Field(
        None, ge=0, description="Steps before the rule looks; default: half the trial's steps.")
    min_improvement: float = Field(
        0.02, ge=0, lt=1, description="How far below the baseline (a fraction of it) the best "
        "validation loss must be.")

    def reason(self, history: Sequence[Evaluation]) -> str | None:
        last = history[-1]
        grace = self.grace_steps
        if grace is None:
            if last.total_steps is None:
                return None
            grace = last.total_steps // 2
        if last.step <= grace or not last.baseline_loss == last.baseline_loss:  # NaN: unknown
            return None
        best = min((e.val_loss for e in history), default=float("nan"))
        needed = (1 - self.min_improvement) * last.baseline_loss
        if best < needed:
            return None
        return (f"not learning: best val_loss {best:.4f} after {last.step} steps is not below "
                f"{needed:.4f} ({1 - self.min_improvement:.0%} of the baseline "
                f"{last.baseline_loss:.4f}, a model that learned nothing)")
