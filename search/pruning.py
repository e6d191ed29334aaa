"""The gap rule: stop a trial whose validation loss pulls away from its training loss.

Pure Python, no Ray: the rule looks at a trial's evaluations so far and either lets it go on
or names why it must stop. ``search/gap_stopper.py`` adapts it to Ray Tune.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a trial: the step and the two losses measured the same way."""

    step: int
    train_loss: float
    val_loss: float

    @property
    def gap(self) -> float:
        return self.val_loss - self.train_loss


@dataclass(frozen=True)
class GapRule:
    """Stop after ``patience`` consecutive evaluations whose gap exceeds ``threshold``.

    With ``relative`` the threshold is a fraction of the validation loss (0.3 = the gap is more
    than 30% of val_loss). Evaluations at or before ``grace_steps`` never count: early in
    training the two losses move fast and a gap there says little.
    """

    threshold: float
    relative: bool = False
    patience: int = 2
    grace_steps: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold)
                and self.threshold > 0):
            raise ValueError(f"threshold must be a finite number > 0 (got {self.threshold!r})")
        if not isinstance(self.patience, int) or self.patience < 1:
            raise ValueError(f"patience must be an integer >= 1 (got {self.patience!r})")
        if not isinstance(self.grace_steps, int) or self.grace_steps < 0:
            raise ValueError(f"grace_steps must be an integer >= 0 (got {self.grace_steps!r})")

    def exceeds(self, evaluation: Evaluation) -> bool:
        """Whether one evaluation's gap is over the limit (a non-finite gap always is)."""
        gap = evaluation.gap
        if not math.isfinite(gap):
            return True
        limit = self.threshold * evaluation.val_loss if self.relative else self.threshold
        return gap > limit

    def describe_limit(self) -> str:
        return f"{self.threshold:.0%} of val_loss" if self.relative else f"{self.threshold:.2f}"

    def stop_reason(self, evaluations: Sequence[Evaluation]) -> str | None:
        """Why the trial must stop after these evaluations (oldest first), or None to go on."""
        streak = 0
        for evaluation in evaluations:
            if evaluation.step <= self.grace_steps:
                continue
            streak = streak + 1 if self.exceeds(evaluation) else 0
        if streak < self.patience:
            return None
        last = evaluations[-1]
        evals = "eval" if streak == 1 else "evals"
        return (f"gap {last.gap:.2f} > {self.describe_limit()} for {streak} {evals} "
                f"(step {last.step})")
