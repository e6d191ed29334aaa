"""``robust``: among the candidates within one standard error of the best, the widest basin.

The differences inside the one-standard-error band of the validation loss are noise (the band
of ``one-se``: the best candidate's loss plus the standard error of its per-example losses).
Within it, ``robust`` prefers the candidate whose loss stays low the farthest from its weights
(``basin check``'s basin radius); ties go to the one that drifted least from the base model on
general inputs. Candidates in the band that were not checked follow the checked ones; before
any check has run the criterion ranks by objective, and ``why`` says so.
"""

from __future__ import annotations

from typing import Literal

from search.selection.base import Criterion, by_objective, or_inf
from search.selection.candidates import Candidate
from search.selection.one_se import OneStandardErrorCriterion


def _checked(candidates: list[Candidate]) -> list[Candidate]:
    """The checked ones, widest basin first (ties: least drift, then the better objective)."""
    return sorted((c for c in candidates if c.basin_radius is not None),
                  key=lambda c: (-c.basin_radius, or_inf(c.drift), c.score, c.step, c.trial_id))


class RobustCriterion(Criterion):
    """The widest basin among the checked candidates within one standard error of the best."""

    criterion: Literal["robust"] = "robust"

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        _, band = OneStandardErrorCriterion.band(candidates)
        first = _checked(band)
        if not first:
            return by_objective(candidates)
        chosen = {(c.trial_id, c.step) for c in first}
        return first + by_objective([c for c in candidates
                                     if (c.trial_id, c.step) not in chosen])

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        best, band = OneStandardErrorCriterion.band(candidates)
        checked = _checked(band)
        if not checked:
            return (f"robust: no candidate within one standard error of the best val_loss has "
                    f"been checked (run basin check); the best {metric} "
                    f"({chosen.objective:.4f}) instead")
        return (f"robust: the widest basin (radius {chosen.basin_radius:.3g}, drift "
                f"{or_inf(chosen.drift):.4f}) of the {len(checked)} checked candidates within "
                f"one standard error ({best.val_loss_se or 0.0:.4f}) of the best val_loss, "
                f"{best.val_loss:.4f} ({best.name}); {metric} {chosen.objective:.4f}")
