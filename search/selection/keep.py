"""Which candidate checkpoints keep their weights: the sweep file's ``keep`` block.

Every evaluation of every trial saves a candidate (an adapter, with its metrics and probe), and
most of them can never be chosen: a Llama-8B LoRA sweep of 24 trials x 12 evaluations would
keep ~180 GB. The keep policy (``search/tune/keep_as_reported.py``, as the reports arrive, and
``search/lifecycle/finish.py`` once more when the sweep ends) deletes the weights of every
candidate that is neither among its trial's best ``per_trial`` nor among the sweep's best
``best``. Ranked by the objective, a candidate outside those sets can never re-enter them (a
trial's or the sweep's best only get better), so the choice, the candidates ``basin check``
measures and those ``basin confirm`` re-trains are the ones an unpruned sweep would have; the
sweep's best are also ranked by its criterion, so that a criterion other than the objective finds
its favourites kept. What a deleted candidate measured stays in the trial's reports (curves,
leaderboard); it is just no longer a candidate.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from search.selection.base import Criterion, by_objective
from search.selection.candidates import Candidate
from trainables.settings import Strict

Key = tuple[str, int]  # (trial id, step)


class KeepSpec(Strict):
    """How many candidate checkpoints keep their weights (``keep: {per_trial: null}`` keeps
    every one, as basin 0.1 did)."""

    per_trial: int | None = Field(
        1, ge=1, description="Each trial's best N candidates (by the objective) keep their "
        "weights; null keeps every evaluation of every trial and deletes nothing.")
    best: int = Field(
        5, ge=0, description="The sweep's best N candidates (by the objective and by the "
        "selection criterion) keep theirs too; at least check.top when the sweep runs "
        "basin check.")

    @property
    def keeps_everything(self) -> bool:
        return self.per_trial is None

    def describe(self) -> str:
        """The policy in a few words, for messages."""
        if self.keeps_everything:
            return "keep.per_trial: null keeps every one"
        return f"each trial's best {self.per_trial} and the sweep's best {self.best} are kept"


def kept(candidates: list[Candidate], eligible: list[Candidate], criterion: Criterion,
         keep: KeepSpec) -> set[Key]:
    """The (trial, step) of every candidate whose weights stay: each trial's best
    ``keep.per_trial`` of ``candidates`` and the sweep's best ``keep.best`` of ``eligible``
    (those the choice may fall on), by the objective and by ``criterion``."""
    if keep.keeps_everything:
        return {(c.trial_id, c.step) for c in candidates}
    by_trial: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_trial[candidate.trial_id].append(candidate)
    chosen = [c for own in by_trial.values() for c in by_objective(own)[:keep.per_trial]]
    if keep.best:
        chosen += by_objective(eligible)[:keep.best] + criterion.rank(eligible)[:keep.best]
    return {(c.trial_id, c.step) for c in chosen}


__all__ = ["Key", "KeepSpec", "kept"]
