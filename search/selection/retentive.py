"""``retentive``: the candidate that kept most of the base model among those as good as the best.

Among the candidates whose objective is within ``tolerance`` of the best one's, choose the one
that drifted least from the base model on general inputs (``drift``, measured at every
evaluation: trainables/tasks/retention.py). The default tolerance is one standard error: the
candidates whose validation loss is within the best validation loss's standard error, the
``one-se`` band, whose differences are noise. A fine-tune that keeps its base model's other
skills is worth a little of its own objective; the tolerance says how much.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from search.selection.base import Criterion, band_first, by_objective, or_inf
from search.selection.candidates import Candidate
from search.selection.one_se import OneStandardErrorCriterion


class RetentiveCriterion(Criterion):
    """The least drift among the candidates within ``tolerance`` of the best objective."""

    criterion: Literal["retentive"] = "retentive"
    tolerance: float | None = Field(
        None, ge=0, description="How much worse than the best objective (in its own units) a "
        "candidate may be; default: within one standard error of the best val_loss.")

    def band(self, candidates: list[Candidate]) -> tuple[Candidate | None, list[Candidate]]:
        """(the best candidate, the candidates within the tolerance of it)."""
        if self.tolerance is None:
            best, band = OneStandardErrorCriterion.band(candidates)
            if best is not None:
                return best, band
        ranked = by_objective(candidates)
        if not ranked:
            return None, []
        bound = ranked[0].score + (self.tolerance or 0.0)
        return ranked[0], [c for c in ranked if c.score <= bound]

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        _, band = self.band(candidates)
        return band_first(band, lambda c: (or_inf(c.drift), c.score, c.step, c.trial_id),
                          candidates)

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        best, band = self.band(candidates)
        within = (f"within {self.tolerance:g} of the best {metric}" if self.tolerance is not None
                  else "within one standard error of the best val_loss"
                  if best is not None and best.val_loss is not None
                  else f"at the best {metric}")
        if chosen.drift is None:
            return (f"retentive: no candidate {within} measured its drift (retention.enabled: "
                    f"false?); the best {metric} among them instead")
        return (f"retentive: drift {chosen.drift:.4f}, the least of the {len(band)} candidates "
                f"{within} ({best.name}: {metric} {best.objective:.4f}, drift "
                f"{or_inf(best.drift):.4f})")
