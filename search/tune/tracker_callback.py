"""The one Tune callback that feeds a sweep's trackers, with each trial's outcome decided."""

from __future__ import annotations

from typing import Any, Callable

from ray.tune import Callback

from search.core.outcome import trial_outcome
from search.store.freeze_ledger import FreezeLedger
from search.store.rundir import trial_id_of
from search.store.stop_ledger import StopLedger
from search.trackers.base import FREEZES, Tracker


class TrackerCallback(Callback):
    """Turns Tune's trial events into ``Tracker`` calls; ``name_of`` names each trial
    (default: its id; ``basin confirm`` names a re-trained candidate by trial, step and seed)."""

    def __init__(self, trackers: list[Tracker], ledger: StopLedger,
                 name_of: Callable[[Any], str] = trial_id_of,
                 freezes: FreezeLedger | None = None):
        self.trackers = trackers
        self.ledger = ledger
        self.name_of = name_of
        self.freezes = freezes  # a freezing scheduler's pauses and thaws

    def _each(self, method: str, *args: Any) -> None:
        for tracker in self.trackers:
            getattr(tracker, method)(*args)

    def setup(self, **info: Any) -> None:
        self._each("announce")

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._each("trial_started", self.name_of(trial), dict(trial.config))

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self._each("trial_result", self.name_of(trial), result)

    # A thawed trial starts again (Ray restarts its function): trackers keep its one record.

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, error=False)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, error=True)

    def _ended(self, trial: Any, error: bool) -> None:
        last = dict(trial.last_result or {})
        outcome = trial_outcome(last, error, self.ledger.decision(trial.trial_id))
        if self.freezes is not None:  # the trial's pauses and thaws join its summary
            self.freezes.refresh()
            last[FREEZES] = [{"event": e.event, "step": e.step, "reason": e.reason}
                             for e in self.freezes.history(trial.trial_id)]
        self._each("trial_ended", self.name_of(trial), outcome, last)

    def on_experiment_end(self, trials, **info) -> None:
        self._each("close")
