"""Freeze, don't kill: asynchronous successive halving whose losers at a rung are paused with
their checkpoint instead of stopped, and thawed later when the evidence or the budget allows.

Learning curves of fine-tuning cross: a moderate learning rate barely moves in the first quarter of
a run and ends best, and a rung that ranks trials early cuts it (RESULTS.md, "Search efficiency").
ASHA's cut is final; here a trial below its rung's cut-off (the best ``1/reduction_factor`` of the
trials that reached the rung go on) is paused (Ray Tune's PAUSE: its slot goes to the next trial,
its latest checkpoint stays). Once the searcher has asked for every trial, the frozen trials are
thawed one by one, each resumed from its checkpoint exactly where it stopped, in the order ``thaw``
says, while the sweep's step budget lasts; those never thawed end as ``pruned: frozen``. (Two
more orders, a learning-curve forecast and the searcher's own model, were measured worse than
``rank`` and removed: RESULTS.md, "Search methods replayed".) Optuna hears a trial's outcome when
it really ends, never at a pause.

The scheduler keeps its rungs and its frozen trials in the freeze ledger
(``search/store/freeze_ledger.py``): Ray keeps no scheduler state across a driver crash, and a
frozen trial that Ray restores as pending is set paused again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from search.core.outcome import FROZEN, PRUNED, Outcome
from search.store.freeze_ledger import FreezeEvent, FreezeLedger
from search.store.stop_ledger import StopLedger
from trainables.contract import BASELINE_LOSS, STEP, VAL_LOSS, VAL_LOSS_SE

# How many standard errors of the validation loss below the baseline a trial must be to have
# shown that it learns: above that it is "undecided", not a loser.
UNDECIDED_SE = 2.0


def rungs_of(grace_period: int, reduction_factor: float, max_t: int) -> list[int]:
    """The rungs below the budget: grace, grace x factor, ... (as ASHA's, lowest first)."""
    rungs, rung = [], float(grace_period)
    while rung < max_t:
        rungs.append(int(rung))
        rung *= reduction_factor
    return rungs


def undecided(result: dict[str, Any]) -> bool:
    """Whether a trial's validation loss is still within noise of a model that learned nothing
    (its baseline): such a trial has not shown how it learns, it has not lost."""
    val, baseline = result.get(VAL_LOSS), result.get(BASELINE_LOSS)
    se = result.get(VAL_LOSS_SE) or 0.0
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in (val, baseline)):
        return False
    return val > baseline - UNDECIDED_SE * se


class FreezingScheduler(FIFOScheduler):
    """Successive halving over optimizer steps that pauses its losers and thaws them later.

    ``thaw``: ``rank`` thaws the best-scored frozen trials first; ``undecided`` thaws first the
    trials that were still within noise of their baseline when frozen (slow starters), then by
    score. ``max_total_steps`` (None: no bound)
    is the sweep's step budget: a trial is thawed only while the steps spent, those the running
    trials may still take, and its own remaining steps fit in it. ``slots``: trials at a time.
    """

    def __init__(self, max_t: int, grace_period: int, reduction_factor: float,
                 freezes: FreezeLedger, stops: StopLedger, slots: int, thaw: str = "rank",
                 max_total_steps: int | None = None):
        super().__init__()
        self.max_t, self.reduction_factor = max_t, reduction_factor
        self.rungs = rungs_of(grace_period, reduction_factor, max_t)
        self.freezes, self.stops = freezes, stops
        self.slots, self.thaw, self.max_total_steps = slots, thaw, max_total_steps
        self._metric: str | None = None
        self._sign = 1.0

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        if metric:
            self._metric = metric
        if mode:
            self._sign = 1.0 if mode == "min" else -1.0
        return True

    def on_trial_add(self, tune_controller: Any, trial: Trial) -> None:
        # A frozen trial that Ray restored after a driver crash comes back pending: keep it
        # frozen (its checkpoint is the one it was frozen with).
        if trial.trial_id in self.freezes.frozen() and trial.status == Trial.PENDING:
            tune_controller._set_trial_status(trial, Trial.PAUSED)

    def on_trial_result(self, tune_controller: Any, trial: Trial, result: dict) -> str:
        if self._metric not in result or STEP not in result:
            return TrialScheduler.CONTINUE
        step, value = result[STEP], result[self._metric]
        if not isinstance(step, (int, float)) or not math.isfinite(step) or step >= self.max_t:
            return TrialScheduler.CONTINUE
        score = self._sign * value if math.isfinite(value) else math.inf
        passed = self.freezes.rungs_of(trial.trial_id)
        for rung in reversed(self.rungs):  # the highest rung reached and not yet judged
            if step < rung or rung in passed:
                continue
            others = list(self.freezes.rung_scores(rung).values())
            self.freezes.rung(trial.trial_id, rung, score)
            if others:
                cutoff = float(np.nanpercentile(others, 100 / self.reduction_factor))
                if score > cutoff:
                    return self._freeze(trial, int(step), rung, score, cutoff, result)
            break
        return TrialScheduler.CONTINUE

    def _freeze(self, trial: Trial, step: int, rung: int, score: float, cutoff: float,
                result: dict) -> str:
        why = (f"below rung {rung}'s cut-off ({self._sign * score:.4f} against "
               f"{self._sign * cutoff:.4f})")
        still = undecided(result)
        if still:
            why += "; undecided: still within noise of its baseline"
        self.freezes.freeze(trial.trial_id, step, why, undecided=still)
        return TrialScheduler.PAUSE

    def choose_trial_to_run(self, tune_controller: Any) -> Trial | None:
        trials = tune_controller.get_trials()
        pending = next((t for t in trials if t.status == Trial.PENDING), None)
        if pending is not None:
            return pending
        running = sum(t.status == Trial.RUNNING for t in trials)
        if running >= self.slots or not tune_controller.search_alg.is_finished():
            return None
        frozen_now = self.freezes.frozen()
        frozen = [t for t in trials if t.status == Trial.PAUSED and t.trial_id in frozen_now]
        thaw = self._to_thaw(frozen, trials, frozen_now)
        if thaw is not None:
            chosen, why = thaw
            self.freezes.thaw(chosen.trial_id, frozen_now[chosen.trial_id].step, why)
            return chosen
        if running == 0:  # nothing runs and nothing more will thaw: the sweep can end
            why = "frozen below its rung's cut-off and never thawed"
            for trial in frozen:
                self._end_frozen(tune_controller, trial, frozen_now[trial.trial_id].step, why)
        return None

    def _to_thaw(self, frozen: list[Trial], trials: list[Trial],
                 frozen_now: dict[str, FreezeEvent]) -> tuple[Trial, str] | None:
        """The frozen trial to resume now and why, or None (none left, none can still win, or
        the budget is spent)."""
        if not frozen:
            return None
        why = f"thawed ({self.thaw}): a slot and the budget allow it"
        scores = {t.trial_id: min(self._scores_of(t.trial_id), default=math.inf)
                  for t in frozen}
        undecided_first = self.thaw == "undecided"
        chosen = min(frozen, key=lambda t: (
            undecided_first and not frozen_now[t.trial_id].undecided, scores[t.trial_id]))
        if self.max_total_steps is not None:
            # Count what the running trials may still spend, not only what is spent: a thaw
            # decided on spent steps alone let the sweep overshoot its budget by the steps of
            # every trial still running (52-60% of a 50% budget in the replay: RESULTS.md,
            # "Search methods replayed over learning-curve tables").
            spent = sum(_last_step(t) for t in trials)
            committed = sum(self.max_t - _last_step(t) for t in trials
                            if t.status == Trial.RUNNING)
            if spent + committed + self.max_t - _last_step(chosen) > self.max_total_steps:
                return None
        return chosen, why

    def _scores_of(self, trial_id: str) -> list[float]:
        """The trial's score at its highest rung."""
        rungs = sorted(self.freezes.rungs_of(trial_id))
        return [self.freezes.rung_scores(rungs[-1])[trial_id]] if rungs else []

    def _end_frozen(self, tune_controller: Any, trial: Trial, step: int, why: str) -> None:
        self.stops.record(trial.trial_id, Outcome(PRUNED, FROZEN, why, step))
        tune_controller.stop_trial(trial)


def _last_step(trial: Trial) -> int:
    step = (trial.last_result or {}).get(STEP)
    return int(step) if isinstance(step, (int, float)) and math.isfinite(step) else 0
