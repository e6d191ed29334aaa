"""The front of (objective, retention): the candidates that no other candidate beats on both.

A candidate is on the front when every candidate with a better objective drifted further from
the base model on general inputs (``drift``, trainables/tasks/retention.py). Moving along the
front trades objective for retention; off it, something else gives both. ``results.json`` lists
it, ``basin best --front`` prints it and ``front.png`` draws it; the ``retentive`` criterion
chooses on it.
"""

from __future__ import annotations

from search.selection.candidates import Candidate


def front(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates with a drift that no other candidate beats on both the objective and
    the drift (equal on both: the earlier step stays), best objective first."""
    measured = sorted((c for c in candidates if c.drift is not None),
                      key=lambda c: (c.score, c.drift, c.step, c.trial_id))
    on_front: list[Candidate] = []
    for candidate in measured:
        if not on_front or candidate.drift < on_front[-1].drift:
            on_front.append(candidate)
    return on_front
