"""The one Ray Tune stopper that runs a sweep's stopping rules on every trial's reports."""

from __future__ import annotations

from ray import tune

from search.core.evaluation import Evaluation
from search.stopping.base import StopRule
from search.store.stop_ledger import StopLedger
from trainables.contract import OUTCOME, STEP, VAL_LOSS


class RuleStopper(tune.Stopper):
    """Feeds each trial's evaluations to the rules, in order, and stops the trial when one of
    them decides; the decision (an ``Outcome``) goes to the stop ledger.

    It works beside any scheduler (ASHA included): Ray asks the stopper first, the scheduler
    only for trials the stopper lets go on.
    """

    def __init__(self, rules: list[StopRule], ledger: StopLedger, objective: str, mode: str):
        self.rules = rules
        self.ledger = ledger
        self.objective, self.mode = objective, mode
        self._history: dict[str, list[Evaluation]] = {}

    def __call__(self, trial_id: str, result: dict) -> bool:
        if OUTCOME in result or VAL_LOSS not in result or STEP not in result:
            return False  # a diverged or failed trial ends by itself; its NaNs are no evidence
        history = self._history.setdefault(trial_id, [])
        evaluation = Evaluation.from_result(result, self.objective, self.mode)
        if history and history[-1].step >= evaluation.step:
            return False  # a resumed trial repeats its last report: already judged
        history.append(evaluation)
        last = evaluation.total_steps is not None and evaluation.step >= evaluation.total_steps
        for rule in self.rules:
            if last and not rule.excludes_trial:
                continue  # it ends here anyway: completed, not "stopped: gap 120/120"
            decision = rule.decide(history)
            if decision is not None:
                self.ledger.record(trial_id, decision)
                return True
        return False

    def stop_all(self) -> bool:
        return False
