"""What every stopping rule shares: the evaluations it reads and the decision it returns.

A rule is a small, typed, self-validating settings model (its fields are the sweep file's
``stopping.<name>`` block) with one method to implement, ``reason``: given a trial's
evaluations so far, oldest first, it says why the trial must stop, or None to let it go on.
Pure Python: no Ray. ``search/tune/stopper.py`` runs the sweep's rules inside Ray Tune.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from search.core.evaluation import Evaluation
from search.core.outcome import PRUNED, STOPPED, Outcome
from trainables.settings import Strict


class StopRule(Strict):
    """Base of every stopping rule. Subclasses set ``kind`` (how the outcome is labelled),
    ``marker`` (how the plots mark its stops), ``status`` (STOPPED: it stopped learning, Optuna
    hears its best objective as COMPLETE;
    PRUNED: not worth more training) and ``excludes_trial`` (its checkpoints are never handed
    on), and implement ``reason``."""

    kind: ClassVar[str]
    marker: ClassVar[str]  # how plots mark a trial this rule stopped (a matplotlib marker)
    status: ClassVar[str] = STOPPED
    excludes_trial: ClassVar[bool] = False

    enabled: bool = True

    def reason(self, history: Sequence[Evaluation]) -> str | None:
        """Why the trial must stop after these evaluations (oldest first), or None."""
        raise NotImplementedError

    def decide(self, history: Sequence[Evaluation]) -> Outcome | None:
        """The outcome this rule gives the trial now, or None to let it go on."""
        if not self.enabled or not history:
            return None
        why = self.reason(history)
        if why is None:
            return None
        return Outcome(self.status, self.kind, why, history[-1].step, self.excludes_trial)


__all__ = ["Evaluation", "StopRule", "STOPPED", "PRUNED"]
