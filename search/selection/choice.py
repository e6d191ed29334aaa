"""``choose``: rank every candidate checkpoint with the sweep's criterion and name the one handed
on, or ``basin confirm``'s winner once it has re-trained the top candidates with new seeds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from search.core.console import counted
from search.selection.base import Criterion
from search.selection.candidates import CHECK_FIGURES, Candidate, Pool, gather
from trainables.contract import STEP

if TYPE_CHECKING:
    from search.core.record import TrialRecord


@dataclass
class Choice:
    """The outcome of a selection: every candidate ranked, the one handed on and why, and which
    trials had no candidate (by why)."""

    ranked: list[Candidate]
    chosen: Candidate | None
    why: str
    excluded: dict[str, list[str]] = field(default_factory=dict)
    fallback: str = ""

    def trial_order(self) -> list[str]:
        """Trial ids in the order of their best-ranked candidate."""
        return list(dict.fromkeys(c.trial_id for c in self.ranked))

    def best_of(self, trial_id: str) -> Candidate | None:
        """A trial's best-ranked candidate."""
        return next((c for c in self.ranked if c.trial_id == trial_id), None)

    def leaders(self, top: int) -> list[Candidate]:
        """The best ``top`` candidates with distinct recipes (a configuration and a step): what
        ``basin confirm --top`` re-trains."""
        distinct: dict[str, Candidate] = {}
        for candidate in self.ranked:
            distinct.setdefault(json.dumps([candidate.params, candidate.step], sort_keys=True),
                                candidate)
        return list(distinct.values())[:top]

    def as_dict(self) -> dict[str, Any]:
        return {"chosen": self.chosen.as_dict() if self.chosen else None, "why": self.why,
                "candidates": len(self.ranked), "excluded": self.excluded,
                "fallback": self.fallback or None}


def with_check(candidates: list[Candidate], checked: dict[tuple[str, int], dict]
               ) -> list[Candidate]:
    """The candidates, those ``basin check`` measured (``checked``, by trial and step) with
    its figures."""
    return [replace(c, **{name: entry.get(name) for name in CHECK_FIGURES})
            if (entry := checked.get((c.trial_id, c.step))) else c for c in candidates]


def choose(records: list[TrialRecord], criterion: Criterion, metric: str, mode: str,
           confirmed: list[dict] = (), keep: Callable[[Candidate], bool] | None = None,
           checked: dict[tuple[str, int], dict] | None = None) -> Choice:
    """Rank every candidate checkpoint (those ``keep`` accepts) with ``criterion``; hand on the
    first, or the winner of ``basin confirm`` when there is one (``confirmed``: its ranking,
    best first). ``checked``: ``basin check``'s figures by (trial, step)."""
    pool: Pool = gather(records, metric, mode)
    pool.candidates = with_check(pool.candidates, checked or {})
    if keep is not None:
        pool.candidates = [c for c in pool.candidates if keep(c)]
    ranked = criterion.rank(pool.candidates)
    if not ranked:
        return Choice([], None, "no trial has saved a checkpoint yet", pool.excluded)
    chosen, why = ranked[0], criterion.why(ranked[0], pool.candidates, metric)
    evaluated = sum(1 for r in records for row in r.evaluations if STEP in row)
    weightless = sum(1 for r in records for row in r.evaluations
                     if STEP in row and int(row[STEP]) not in r.checkpoints)
    if weightless and keep is None:
        # Every evaluation was a candidate; the keep policy deleted most of their weights as
        # the sweep went (never those of a trial's best or the sweep's best few).
        why += f"; {weightless} of {evaluated} evaluations no longer have their weights (keep)"
    if confirmed:
        winner = confirmed[0]
        found = next((c for c in ranked if (c.trial_id, c.step) ==
                      (winner["trial_id"], winner[STEP])), None)
        if found is not None:
            chosen = found
            spread = (f"sd {winner['spread']:.4f}" if winner.get("spread") is not None
                      and len(winner["objectives"]) > 1 else "one seed: no spread")
            seeds = counted(len(winner["objectives"]), "new seed")
            why = (f"confirmed: the best mean {metric} ({winner['mean']:.4f}, {spread}) over "
                   f"{seeds} of the {len(confirmed)} candidates basin confirm re-trained")
            ranked = [found] + [c for c in ranked if c is not found]
    if pool.fallback:
        why = f"{why}; note: {pool.fallback}"
    return Choice(ranked, chosen, why, pool.excluded, pool.fallback)
