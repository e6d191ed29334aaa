"""``objective``: the candidate with the best objective (e.g. the lowest validation loss)."""

from __future__ import annotations

from typing import Literal

from search.selection.base import Criterion, by_objective
from search.selection.candidates import Candidate


class ObjectiveCriterion(Criterion):
    """The best objective over every candidate checkpoint."""

    criterion: Literal["objective"] = "objective"

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        return by_objective(candidates)

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        return f"objective: the best {metric} ({chosen.objective:.4f}) of {len(candidates)} " \
               "candidate checkpoints"
