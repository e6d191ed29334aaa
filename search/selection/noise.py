"""How sure a choice is. The chosen checkpoint's validation loss is a mean over the validation
examples, with a standard error; another trial's checkpoint within one standard error of it is
as good by that evidence, and a choice among such checkpoints is within noise. What would
separate them is training their recipes again with other seeds (``basin confirm``), whose cost
in optimizer steps is known before it runs. Over seeds, a mean gets a t interval; one seed has
no spread."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainables.contract import VAL_LOSS, finite

if TYPE_CHECKING:
    from search.selection.candidates import Candidate
    from search.selection.choice import Choice

# Student's t, its 97.5% quantile for 1 to 30 degrees of freedom (a two-sided 95% interval);
# beyond 30 the normal's 1.96 is within 2% of it.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
MAX_CONFIRMED = 5  # candidates the suggested basin confirm re-trains, at most
CONFIRM_SEEDS = 2  # new seeds each: the fewest that give a spread


def mean_interval(values: list[float]) -> tuple[float, float] | None:
    """The 95% t interval of the mean of ``values``; None for fewer than two (no spread)."""
    if len(values) < 2:
        return None
    mean, se = statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))
    t = T_975[len(values) - 2] if len(values) - 1 <= len(T_975) else 1.96
    return mean - t * se, mean + t * se


def spread_text(values: list[float]) -> str:
    """A spread over seeds as a table shows it: the sd, or that one seed has none."""
    return f"{statistics.stdev(values):.4f}" if len(values) > 1 else "needs 2 seeds"


@dataclass(frozen=True)
class Closeness:
    """The chosen checkpoint's standard error (None where the objective has none), the other
    trials' best checkpoints within it, and the ``basin confirm`` that would separate them:
    its candidates (the choice's leaders with distinct recipes) and their steps."""

    metric: str
    objective: float
    se: float | None
    within: list[Candidate] = field(default_factory=list)
    confirm: list[Candidate] = field(default_factory=list)
    seeds: int = CONFIRM_SEEDS

    @property
    def confirm_steps(self) -> int:
        """Optimizer steps the suggested confirm trains: each candidate to its step, per seed."""
        return self.seeds * sum(candidate.step for candidate in self.confirm)

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "objective": self.objective, "se": self.se,
                "within_noise": [c.name for c in self.within],
                "confirm": {"top": len(self.confirm), "seeds": self.seeds,
                            "steps": self.confirm_steps} if self.within else None}

    def said(self, run_location: str, spent_steps: int) -> tuple[str, str | None]:
        """What the end of a sweep says of it, and the ``basin confirm`` command that would
        separate the checkpoints within noise (None when none is)."""
        if self.se is None:
            return (f"{self.metric} {self.objective:.4f}: no standard error for {self.metric} "
                    f"(basin confirm measures its spread over seeds)", None)
        said = f"{self.metric} {self.objective:.4f} ± {self.se:.4f} (one standard error)"
        if not self.within:
            return f"{said}: no other trial's checkpoint lies within it.", None
        others = len(self.within)
        trials = "trial's checkpoint lies" if others == 1 else "trials' checkpoints lie"
        top = len(self.confirm)
        return (f"{said}: {others} other {trials} within it, so the choice among them is within "
                f"noise. To separate them, {top} candidates x {self.seeds} new seeds re-train "
                f"{self.confirm_steps:,} steps (the sweep spent {spent_steps:,}):",
                f"basin confirm {run_location} --top {top} --seeds {self.seeds}")


def closeness(choice: Choice, metric: str, seeds: int = CONFIRM_SEEDS) -> Closeness | None:
    """How sure ``choice`` is (None when nothing is chosen). The standard error is the
    validation loss's, so only a ``val_loss`` objective has one."""
    chosen = choice.chosen
    if chosen is None:
        return None
    se = finite(chosen.val_loss_se) if metric == VAL_LOSS else None
    if se is None:
        return Closeness(metric, chosen.objective, None)
    others = [best for trial_id in choice.trial_order() if trial_id != chosen.trial_id
              and (best := choice.best_of(trial_id)) is not None]
    within = [c for c in others if abs(c.objective - chosen.objective) <= se]
    confirm = choice.leaders(min(1 + len(within), MAX_CONFIRMED)) if within else []
    return Closeness(metric, chosen.objective, se, within, confirm, seeds)
