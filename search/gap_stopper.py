"""The thin Ray Tune adapter of the gap rule: a ``ray.tune.Stopper``."""

from __future__ import annotations

from ray import tune

from search.pruning import Evaluation, GapRule
from search.stops import StopLedger


class GapStopper(tune.Stopper):
    """Feeds each trial's reported losses to a ``GapRule`` and stops it when the rule says so.

    It works beside any scheduler (ASHA included): Ray asks the stopper first, the scheduler
    only for trials the stopper lets go on.
    """

    def __init__(self, rule: GapRule, ledger: StopLedger,
                 train_metric: str = "train_eval_loss", val_metric: str = "val_loss"):
        self.rule = rule
        self.ledger = ledger
        self.train_metric, self.val_metric = train_metric, val_metric
        self._history: dict[str, list[Evaluation]] = {}

    def __call__(self, trial_id: str, result: dict) -> bool:
        if "outcome" in result or self.train_metric not in result or self.val_metric not in result:
            return False  # a diverged or failed trial ends by itself; its NaNs are no gap
        history = self._history.setdefault(trial_id, [])
        history.append(Evaluation(int(result.get("step", len(history) + 1)),
                                  float(result[self.train_metric]), float(result[self.val_metric])))
        reason = self.rule.stop_reason(history)
        if reason is None:
            return False
        self.ledger.record(trial_id, reason)
        return True

    def stop_all(self) -> bool:
        return False
