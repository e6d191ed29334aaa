"""What every selection criterion shares: a ranking of the candidates and a sentence saying why
the first one won.

A criterion is a small settings model (the sweep file's ``selection`` block, told apart by its
``criterion`` name) with two methods to implement: ``rank`` orders every candidate, best first
(the first is handed on, the first K are confirmed); ``why`` explains the first.
"""

from __future__ import annotations

from typing import Callable

from search.selection.candidates import Candidate
from trainables.settings import Strict


def by_objective(candidates: list[Candidate]) -> list[Candidate]:
    """Best objective first; among equals the smaller gap, then the earlier step."""
    return sorted(candidates, key=lambda c: (c.score, or_inf(c.gap), c.step, c.trial_id))


def or_inf(value: float | None) -> float:
    return float("inf") if value is None else value


def band_first(band: list[Candidate], key: Callable[[Candidate], tuple],
               candidates: list[Candidate]) -> list[Candidate]:
    """The candidates of ``band`` ordered by ``key``, then every other one by objective."""
    inside = sorted(band, key=key)
    taken = {(c.trial_id, c.step) for c in inside}
    return inside + by_objective([c for c in candidates if (c.trial_id, c.step) not in taken])


class Criterion(Strict):
    """Base of every selection criterion."""

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        """Every candidate, best first."""
        raise NotImplementedError

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        """Why ``chosen`` (the first of ``rank``) won, in one sentence."""
        raise NotImplementedError


__all__ = ["Criterion", "band_first", "by_objective", "or_inf"]
