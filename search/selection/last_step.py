"""``last-step``: the last checkpoint. A recipe (``best.yaml``, an export's ``config.yaml``)
re-trains one configuration to the step that was chosen, and that step is what it hands on."""

from __future__ import annotations

from typing import Literal

from search.selection.base import Criterion
from search.selection.candidates import Candidate


class LastStepCriterion(Criterion):
    """The latest candidate step (ties: the better objective)."""

    criterion: Literal["last-step"] = "last-step"

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        return sorted(candidates, key=lambda c: (-c.step, c.score, c.trial_id))

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        return f"last-step: the recipe's last checkpoint ({metric} {chosen.objective:.4f})"
