"""``one-se``: the one-standard-error rule, applied to checkpoints.

Among the candidates whose validation loss is within one standard error of the best one (the
error computed from that checkpoint's per-example validation losses), choose the one with the
smallest gap, a proxy for the least fitted model: the differences inside that band are noise,
and the less a model fitted its training data the less it memorised.
"""

from __future__ import annotations

from typing import Literal

from search.selection.base import Criterion, band_first, or_inf
from search.selection.candidates import Candidate


class OneStandardErrorCriterion(Criterion):
    """The smallest gap among candidates within one standard error of the best val_loss."""

    criterion: Literal["one-se"] = "one-se"

    @staticmethod
    def band(candidates: list[Candidate]) -> tuple[Candidate | None, list[Candidate]]:
        """(the candidate with the best validation loss, the candidates within its error)."""
        measured = [c for c in candidates if c.val_loss is not None]
        if not measured:
            return None, []
        best = min(measured, key=lambda c: (c.val_loss, c.step, c.trial_id))
        bound = best.val_loss + (best.val_loss_se or 0.0)
        return best, [c for c in measured if c.val_loss <= bound]

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        _, band = self.band(candidates)
        return band_first(band, lambda c: (or_inf(c.gap), c.val_loss, c.step, c.trial_id),
                          candidates)

    def why(self, chosen: Candidate, candidates: list[Candidate], metric: str) -> str:
        best, band = self.band(candidates)
        if best is None:
            return f"one-se: no candidate reported val_loss; the best {metric} instead"
        return (f"one-se: val_loss {chosen.val_loss:.4f} is within one standard error "
                f"({best.val_loss_se or 0.0:.4f}) of the best, {best.val_loss:.4f} ({best.name}), "
                f"and its gap {or_inf(chosen.gap):.4f} is the smallest of the {len(band)} "
                "candidates in that band")
