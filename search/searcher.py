"""A Ray Tune searcher that drives an Optuna study with ask/tell and tells it the truth.

Ray's own ``OptunaSearch`` records a trial that a scheduler or stopper ended as COMPLETE with
its last value, so an overfitting trial that was stopped early teaches TPE that its
configuration was good. Here a trial stopped early is PRUNED (its intermediate values kept),
a failed trial is FAIL, and a completed trial's value is its best objective.
The study lives in persistent storage (a journal file in the run directory by default).
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState
from ray.tune.search import Searcher

from search.stops import StopLedger, trial_outcome
from search.study_storage import open_storage

STATUS_ATTR = "basin_status"  # completed | pruned | failed
REASON_ATTR = "basin_reason"
RAY_TRIAL_ATTR = "ray_trial_id"


def make_sampler(kind: str, seed: int | None, num_trials: int) -> optuna.samplers.BaseSampler:
    """TPE (with a constant liar, as trials run in parallel) or random sampling."""
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # Optuna's default of 10 random start-up trials would make a small sweep pure random search.
    startup = min(10, max(2, num_trials // 3))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constant_liar=True)


@dataclass(frozen=True)
class StudyRef:
    """How to open the sweep's Optuna study: picklable, unlike the study and its storage."""

    name: str
    run_dir: Path
    storage_url: str | None
    sampler: str
    seed: int | None
    num_trials: int
    direction: str

    def open(self) -> optuna.Study:
        """Create the study, or load it if the storage already holds it."""
        return optuna.create_study(
            study_name=self.name,
            storage=open_storage(self.run_dir, self.storage_url),
            sampler=make_sampler(self.sampler, self.seed, self.num_trials),
            direction=self.direction,
            load_if_exists=True,
        )


class HonestOptunaSearch(Searcher):
    """Optuna ask/tell behind Ray Tune's ``Searcher`` interface."""

    def __init__(self, study_ref: StudyRef, distributions: dict[str, BaseDistribution],
                 constants: dict[str, Any], ledger: StopLedger, metric: str, mode: str):
        # Tune only calls set_search_properties when it has a param_space, and basin passes
        # none (the space lives here), so the objective must be given up front.
        super().__init__(metric=metric, mode=mode)
        self.study_ref = study_ref
        self.study = study_ref.open()
        self.distributions = distributions
        self.constants = constants
        self.ledger = ledger
        self._live: dict[str, optuna.Trial] = {}
        self._reported: dict[str, set[int]] = {}

    def __getstate__(self) -> dict:
        # Ray pickles the searcher with the experiment state. The study holds locks; keep only
        # which Optuna trial (by number) each running Ray trial is, and reopen on unpickling.
        state = self.__dict__.copy()
        state["study"] = None
        state["_live"] = {ray_id: trial.number for ray_id, trial in self._live.items()}
        return state

    def __setstate__(self, state: dict) -> None:
        numbers = state.pop("_live")
        self.__dict__.update(state)
        self.study = self.study_ref.open()
        by_number = {t.number: t._trial_id for t in self.study.get_trials(deepcopy=False)}
        self._live = {ray_id: optuna.trial.Trial(self.study, by_number[number])
                      for ray_id, number in numbers.items() if number in by_number}

    def save(self, checkpoint_path: str) -> None:
        """Ray saves the searcher with the experiment state; the study itself is in storage."""
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self, handle)

    def restore(self, checkpoint_path: str) -> None:
        """Take back the state Ray saved with the experiment (on ``basin resume``)."""
        with open(checkpoint_path, "rb") as handle:
            self.__dict__.update(pickle.load(handle).__dict__)
        self._requeue_orphans()

    def _requeue_orphans(self) -> None:
        """Settle Optuna trials that a crashed driver asked for but Ray never recorded.

        Between two experiment snapshots the driver may ask Optuna for a configuration and die
        before Ray writes the trial down; Ray will not resume it. Such a trial is told FAIL
        (it never trained) and its configuration is queued again, so nothing learned is lost
        and the resumed sweep tries it.
        """
        running = {t.number for t in self.study.get_trials(deepcopy=False,
                                                           states=(TrialState.RUNNING,))}
        # A trial told before the crash but after Ray's last snapshot is resumed by Ray from
        # its final checkpoint, which only repeats its last report: Optuna must not hear it
        # twice.
        self._live = {ray_id: trial for ray_id, trial in self._live.items()
                      if trial.number in running}
        known = {trial.number for trial in self._live.values()}
        for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if frozen.number in known:
                continue
            orphan = optuna.trial.Trial(self.study, frozen._trial_id)
            orphan.set_user_attr(STATUS_ATTR, "orphaned")
            orphan.set_user_attr(REASON_ATTR, "the driver stopped before Ray recorded it; "
                                              "its configuration was queued again")
            self.study.tell(orphan, state=TrialState.FAIL)
            self.study.enqueue_trial(frozen.params, skip_if_exists=False)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        """Accept the TuneConfig's objective (the space comes from the sweep, not from Tune)."""
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def suggest(self, trial_id: str) -> dict | None:
        trial = self.study.ask(self.distributions)
        trial.set_user_attr(RAY_TRIAL_ATTR, trial_id)
        self._live[trial_id] = trial
        self._reported[trial_id] = set()
        return {**self.constants, **trial.params}

    def _report(self, trial_id: str, result: dict) -> None:
        trial = self._live.get(trial_id)
        value, step = result.get(self.metric), result.get("step")
        if trial is None or value is None or step is None:
            return
        if math.isfinite(value) and int(step) not in self._reported[trial_id]:
            trial.report(float(value), int(step))
            self._reported[trial_id].add(int(step))

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self._report(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        # Ray does not pass the result that made a stopper or scheduler stop the trial to
        # on_trial_result, only here: record it as an intermediate value first.
        if result:
            self._report(trial_id, result)
        trial = self._live.pop(trial_id, None)
        if trial is None:
            return
        status, reason = trial_outcome(result, error, self.ledger.reason(trial_id))
        state = {"failed": TrialState.FAIL, "pruned": TrialState.PRUNED}.get(status)
        value = None
        if status == "completed":
            best = result.get("best_objective", result.get(self.metric))
            if best is not None and math.isfinite(best):
                state, value = TrialState.COMPLETE, float(best)
            else:
                state, status, reason = TrialState.FAIL, "failed", "no finite objective"
        trial.set_user_attr(STATUS_ATTR, status)
        trial.set_user_attr(REASON_ATTR, reason)
        self.study.tell(trial, value, state=state)
