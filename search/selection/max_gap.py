"""``max-gap``: the best objective among candidates whose gap is at most ``max_gap``.

For users who want a bound on how far the handed-on model fits its training data beyond the
validation data. If no candidate is within the bound, the smallest gap wins, and ``why`` says so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from search.selection.base import Criterion, by_objective, or_inf
from search.selection.candidates import Candidate
from search.stopping.gap import gap_within


class MaxGapCriterion(Criterion):
    """The best objective among candidates whose gap is within the limit."""

    criterion: Literal["max-gap"] = "max-gap"
    max_gap: float = Field(gt=0, allow_inf_nan=False, description="The largest gap allowed.")
    relative: bool = Field(False, description="max_gap is a fraction of val_loss.")

    def within(self, candidate: Candidate) -> bool:
        if candidate.gap is None or candidate.val_loss is None:
            return False
        return gap_within(candidate.gap, candidate.val_loss, self.max_gap, self.relative)

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        inside = [c for c in candidates if self.within(c)]
        outside = [c for c in candidates if not self.within(c)]
        return by_objective(inside) + sorted(outside, key=lambda c: (or_inf(c.gap), c.score))

    def limit_text(self) -> str:
        return f"{self.max_gap:.0%} of val_loss" if self.relative else f"{self.max_gap:g}"

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        inside = sum(self.within(c) for c in candidates)
        if not self.within(chosen):
            return (f"max-gap: no candidate has a gap within {self.limit_text()}; this one's, "
                    f"{or_inf(chosen.gap):.4f}, is the smallest")
        return (f"max-gap: the best {metric} ({chosen.objective:.4f}) of the {inside} candidates "
                f"whose gap is within {self.limit_text()}")
