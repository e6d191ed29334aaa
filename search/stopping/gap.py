"""The gap rule: stop a trial that has started to overfit.

Overfitting shows as the validation loss turning up while the training loss keeps falling, so
the gap between them widens. How wide the gap is says little by itself: trials that learn more
have larger gaps, and in a held-out check of an SST-2 sweep the gap at the best step went with
*lower* held-out loss. The rule therefore looks at the direction, not the size: an evaluation
overfits when, since the trial's best validation loss,

- the validation loss is above that best (by more than ``min_delta``),
- the training loss (eval mode, the fixed training sample) is below its value at that step,
- the trial had learned something: that best is below the constant-prediction baseline,
- and the gap is over ``threshold`` (0: any gap; absolute, or a fraction of the validation
  loss with ``relative``).

``patience`` such evaluations in a row, after ``grace_steps``, stop the trial. Its result is
the checkpoint before the turn; the trial is ``stopped``, and Optuna hears its best objective.
The reason says "overfitting" only of a trial that had learned: one whose best evaluation had
collapsed to one output, or was never below the not-learning threshold, is said to have never
learned.
"""

from __future__ import annotations

import math
from typing import ClassVar, Sequence

from pydantic import Field

from search.core.evaluation import Evaluation
from search.stopping.base import StopRule
from search.stopping.not_learning import NotLearning

# How far below the baseline a trial's best validation loss must be to have learned: the
# not-learning rule's default margin, so that the two rules agree on who learned.
NOT_LEARNING_MARGIN: float = NotLearning.model_fields["min_improvement"].default


def gap_within(gap: float, val_loss: float, limit: float, relative: bool) -> bool:
    """Whether a gap is at most ``limit`` (a fraction of ``val_loss`` when ``relative``);
    a gap that is not a number never is."""
    if not math.isfinite(gap):
        return False
    return gap <= (limit * val_loss if relative else limit)


class GapRule(StopRule):
    """Stop after ``patience`` consecutive evaluations showing the overfitting turn."""

    kind: ClassVar[str] = "gap"
    marker: ClassVar[str] = "x"

    patience: int = Field(2, ge=1, description="Consecutive overfitting evaluations.")
    threshold: float = Field(0.0, ge=0, allow_inf_nan=False,
                             description="The gap must also exceed this (0: any gap).")
    relative: bool = Field(False, description="threshold is a fraction of val_loss.")
    min_delta: float = Field(0.0, ge=0, allow_inf_nan=False,
                             description="How far above its best the validation loss must be.")
    grace_steps: int = Field(0, ge=0, description="Evaluations up to this step never count.")

    def within_limit(self, gap: float, val_loss: float) -> bool:
        """Whether a gap is within this rule's threshold (``basin best --within-gap-limit``)."""
        return gap_within(gap, val_loss, self.threshold, self.relative)

    def describe_limit(self) -> str:
        return f"{self.threshold:.0%} of val_loss" if self.relative else f"{self.threshold:.2f}"

    def reason(self, history: Sequence[Evaluation]) -> str | None:
        best: Evaluation | None = None
        streak = 0
        for evaluation in history:
            if not math.isnan(evaluation.val_loss) and (
                    best is None or evaluation.val_loss < best.val_loss):
                best, streak = evaluation, 0
                continue
            if best is None:
                continue
            learned = not (best.val_loss >= evaluation.baseline_loss)  # NaN baseline: unknown
            overfits = (evaluation.step > self.grace_steps and learned
                        and not evaluation.val_loss <= best.val_loss + self.min_delta
                        and evaluation.train_eval_loss < best.train_eval_loss
                        and not self.within_limit(evaluation.gap, evaluation.val_loss))
            streak = streak + 1 if overfits else 0
        if streak < self.patience:
            return None
        last = history[-1]
        evals = "eval" if streak == 1 else "evals"
        turn = (f"val_loss rose from {best.val_loss:.4f} (step {best.step}) to "
                f"{last.val_loss:.4f} while train_loss fell from {best.train_eval_loss:.4f} to "
                f"{last.train_eval_loss:.4f}, gap {last.gap:.2f}, for {streak} {evals}")
        never = never_learned(best)
        return f"{turn}; {never}" if never else f"overfitting: {turn}"


def never_learned(best: Evaluation) -> str | None:
    """Why a trial whose validation loss turned up had learned nothing to overfit, or None.

    The turn is the same, but the trial was still a constant guess: its best evaluation gave one
    output for every validation example (a constant that matches the validation labels better
    than the training prior beats the baseline), or its best validation loss never got below the
    not-learning rule's threshold (its default: 98% of the baseline). Such a trial is not said
    to overfit (issue 49)."""
    if best.collapsed:
        return ("it never learned: at its best step it gave one output for every validation "
                "example (collapsed to one output)")
    needed = (1 - NOT_LEARNING_MARGIN) * best.baseline_loss
    if math.isfinite(needed) and not best.val_loss < needed:
        return (f"it never learned: its best val_loss was not below {needed:.4f} "
                f"({1 - NOT_LEARNING_MARGIN:.0%} of the baseline {best.baseline_loss:.4f}, a "
                "model that learned nothing)")
    return None
