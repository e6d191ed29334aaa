"""A Ray Tune searcher that drives an Optuna study with ask/tell and tells it the truth.

Ray's own ``OptunaSearch`` records every trial that a scheduler or stopper ended as COMPLETE
with its last value, so a trial that ASHA cut at its first rung teaches TPE that its
configuration was as good as that value. Here each trial is told what its outcome means
(``search/core/outcome.py``): a trial that trained its budget, or that a rule stopped because it had
stopped learning (it began to overfit), is COMPLETE with its best objective, the value of the
checkpoint it would hand on; a trial not worth more training (ASHA's rung cut-off, not
learning, diverged) is PRUNED with its intermediate values; a trial that raised is FAIL.

Why stopped-for-overfitting is COMPLETE, not PRUNED: TPE ranks every PRUNED trial below every
COMPLETE one, and PRUNED trials among themselves by the deepest step reached
(``optuna/samplers/_tpe/sampler.py``, ``_get_pruned_trial_score``). Told PRUNED, the fast
learners that overfit first would rank below slow ones that ran longer: TPE would learn "ran
long" instead of "low loss". The gap at the best step is kept as a user attribute, not as a
constraint: a larger gap went with lower held-out loss in a held-out check, so it must not push
a trial out of TPE's good group.
The study lives in persistent storage (a journal file in the run directory by default).
"""

from __future__ import annotations

import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState
from ray.tune.search import Searcher

from search.core.outcome import trial_outcome
from search.sampling.telling import orphaned, told
from search.store.freeze_ledger import FreezeLedger
from search.store.stop_ledger import StopLedger
from search.store.study import (
    AT_BEST_ATTRS,
    RAY_TRIAL_ATTR,
    open_storage,
    record_outcome,
)
from trainables.contract import BEST_OBJECTIVE, BEST_STEP, DRIFT, GAP, STEP


def make_sampler(kind: str, seed: int | None, num_trials: int) -> optuna.samplers.BaseSampler:
    """TPE (with a constant liar, as trials run in parallel) or random sampling."""
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # Optuna's default of 10 random start-up trials would make a small sweep pure random search.
    startup = min(10, max(2, num_trials // 3))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constant_liar=True)


def resume_seed(seed: int, asked: int) -> int:
    """The sampler's seed for a study reopened after ``asked`` trials."""
    return int(np.random.SeedSequence([seed, asked]).generate_state(1)[0])


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
    # An extension point (docs/architecture.md): sweeps nobody resumes or reads back (the
    # replay's thousands) keep their study in memory; it draws what a stored one draws.
    in_memory: bool = False
    # Compatibility: the drift's direction in a study basin 0.1's search.multi_objective made
    # (None: one objective); such a sweep resumes as it was made. Remove in basin 0.3.
    second_direction: str | None = None

    @property
    def directions(self) -> list[str]:
        """The study's directions: the objective's, then the drift's if it is searched too."""
        # A StudyRef pickled before the field existed (basin resume) reads the class default.
        second = self.second_direction
        return [self.direction, *([second] if second else [])]

    def open(self) -> optuna.Study:
        """Create the study, or load it if the storage already holds it."""
        study = optuna.create_study(
            study_name=self.name,
            storage=(optuna.storages.InMemoryStorage() if self.in_memory
                     else open_storage(self.run_dir, self.storage_url)),
            sampler=make_sampler(self.sampler, self.seed, self.num_trials),
            directions=self.directions,
            load_if_exists=True,
        )
        asked = len(study.get_trials(deepcopy=False))
        if asked and self.seed is not None:
            # A reopened study (basin resume). The sampler's random state is not stored, and
            # seeded again from the sweep's seed it would draw the configurations it drew
            # before the driver stopped. Seeded from the seed and the trials asked so far, it
            # draws new ones, and the same ones on every resume at the same point.
            study.sampler = make_sampler(self.sampler, resume_seed(self.seed, asked),
                                         self.num_trials)
        return study


class HonestOptunaSearch(Searcher):
    """Optuna ask/tell behind Ray Tune's ``Searcher`` interface."""

    def __init__(self, study_ref: StudyRef, distributions: dict[str, BaseDistribution],
                 constants: dict[str, Any], ledger: StopLedger, metric: str, mode: str,
                 freezes: FreezeLedger | None = None):
        # Tune only calls set_search_properties when it has a param_space, and basin passes
        # none (the space lives here), so the objective must be given up front.
        super().__init__(metric=metric, mode=mode)
        self.study_ref = study_ref
        self.study = study_ref.open()
        self.distributions = distributions
        self.constants = constants
        self.ledger = ledger
        # With a freezing scheduler: the frozen trials, which hold no slot.
        self.freezes = freezes
        self._slots: int | None = None
        # Trials that hold a slot. One Ray ended on a fault of the machine (retries spent)
        # leaves it untold: basin resume continues it (resume_trials), and the study, where it
        # is still running, says so (adopt_ray_trials); the sweep's end tells it FAIL.
        self._live: dict[str, optuna.Trial] = {}
        self._reported: dict[str, set[int]] = {}
        # Figures of each live trial's best step so far (AT_BEST_ATTRS), told with its outcome.
        self._at_best: dict[str, dict[str, float]] = {}

    def __getstate__(self) -> dict:
        # Ray pickles the searcher with the experiment state. The study holds locks; keep only
        # which Optuna trial (by number) each running Ray trial is, and reopen on unpickling.
        state = self.__dict__.copy()
        state["study"] = None
        state["_live"] = {ray_id: trial.number for ray_id, trial in self._live.items()}
        return state

    def __setstate__(self, state: dict) -> None:
        numbers = state.pop("_live")
        # Compatibility (resuming a sweep that basin 0.1 started): its searcher lacked it.
        # Remove in basin 0.3.
        gaps = state.pop("_gap_at_best", {})
        state.setdefault("_at_best", {ray_id: {GAP: gap} for ray_id, gap in gaps.items()})
        state.setdefault("freezes", None)
        state.setdefault("_slots", None)
        state.pop("_faulted", None)  # kept by earlier searchers; the study says it now
        self.__dict__.update(state)
        self.study = self.study_ref.open()
        by_number = {t.number: t._trial_id for t in self.study.get_trials(deepcopy=False)}
        self._live = {ray_id: optuna.trial.Trial(self.study, by_number[number])
                      for ray_id, number in numbers.items() if number in by_number}

    def save(self, checkpoint_path: str) -> None:
        """Ray saves the searcher with the experiment state; the study itself is in storage.

        Written whole or not at all: Ray rewrites one file per driver session at every
        snapshot, and a driver killed mid-write left it truncated; the resumed sweep then could
        not restore its state and started over (seen in CI: ``EOFError: Ran out of input``)."""
        partial = f"{checkpoint_path}.partial"  # not a searcher-state-*.pkl Ray would pick
        with open(partial, "wb") as handle:
            pickle.dump(self, handle)
        os.replace(partial, checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        """Take back the state Ray saved with the experiment (on ``basin resume``). Which of
        its trials are live is settled once Ray's own trials are known: ``adopt_ray_trials``."""
        with open(checkpoint_path, "rb") as handle:
            self.__dict__.update(pickle.load(handle).__dict__)

    def adopt_ray_trials(self, resumed: set[str], recorded: set[str]) -> None:
        """Agree with the trials Ray restored (``resumed``: the Ray ids it runs again;
        ``recorded``: every Ray id in its state), rebuilt from the study, not from this
        searcher's saved state: Ray's files may come from two snapshots
        (``search/tune/restored_state.py``), and the study's journal is what Optuna was told.

        - A trial Optuna has running and Ray runs again is live, whether or not the saved
          searcher knew it (one Ray ended on a fault of the machine included:
          resume_errored); its reported steps are those the study holds.
        - A trial told before the crash but after Ray's snapshot is resumed by Ray from its
          final checkpoint, which only repeats its last report: not live, Optuna must not hear
          it twice.
        - A trial Optuna has running that Ray never recorded (asked for between two snapshots)
          is an orphan: told FAIL (it never trained) and its configuration queued again, so
          nothing learned is lost and the resumed sweep tries it.
        """
        running = [(t.user_attrs.get(RAY_TRIAL_ATTR), t) for t in
                   self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
        live = [(ray_id, trial) for ray_id, trial in running if ray_id in resumed]
        self._live = {ray_id: optuna.trial.Trial(self.study, trial._trial_id)
                      for ray_id, trial in live}
        self._reported = {ray_id: set(trial.intermediate_values) for ray_id, trial in live}
        self._at_best = {ray_id: figures for ray_id, figures in self._at_best.items()
                         if ray_id in self._live}
        for ray_id, trial in running:
            if ray_id in recorded:
                continue  # live above, or ended in Ray's state: the sweep's end tells it
            orphan = optuna.trial.Trial(self.study, trial._trial_id)
            ending = orphaned()
            record_outcome(orphan, ending.outcome)
            self.study.tell(orphan, state=ending.state)
            self.study.enqueue_trial(trial.params, skip_if_exists=False)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        """Accept the TuneConfig's objective (the space comes from the sweep, not from Tune)."""
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Count the trials that hold a slot here, instead of Ray's ConcurrencyLimiter. The
        limiter counts a frozen (paused) trial as running, so no new trial could take its
        slot; and it forgets a trial that ended on an error, so when ``basin resume``
        continues that trial, the limiter drops its completion and Optuna is never told."""
        self._slots = max_concurrent
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if self._slots is not None:
            frozen: set[str] = set()
            if self.freezes is not None:
                self.freezes.refresh()
                frozen = set(self.freezes.frozen())
            if sum(ray_id not in frozen for ray_id in self._live) >= self._slots:
                return None
        trial = self.study.ask(self.distributions)
        trial.set_user_attr(RAY_TRIAL_ATTR, trial_id)
        self._live[trial_id] = trial
        self._reported[trial_id] = set()
        return {**self.constants, **trial.params}

    def _report(self, trial_id: str, result: dict) -> None:
        trial = self._live.get(trial_id)
        value, step = result.get(self.metric), result.get(STEP)
        if trial is None or value is None or step is None:
            return
        # A multi-objective study takes no intermediate values (Optuna raises): its trials
        # cut early are told PRUNED without them.
        multi = len(self.study.directions) > 1
        if not multi and math.isfinite(value) and int(step) not in self._reported[trial_id]:
            trial.report(float(value), int(step))
            self._reported[trial_id].add(int(step))
        if result.get(BEST_STEP) == step:
            self._at_best[trial_id] = {name: float(result[name]) for name in AT_BEST_ATTRS
                                       if math.isfinite(result.get(name, math.nan))}

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
        if error:  # a fault of the machine: untold, basin resume continues it (see __init__)
            return
        at_best = self._at_best.pop(trial_id, {})
        best = (result or {}).get(BEST_OBJECTIVE, (result or {}).get(self.metric))
        ending = told(trial_outcome(result, error, self.ledger.decision(trial_id)), best,
                      at_best.get(DRIFT), len(self.study.directions))
        record_outcome(trial, ending.outcome)
        for name, figure in at_best.items():
            trial.set_user_attr(AT_BEST_ATTRS[name], figure)
        self.study.tell(trial, ending.values, state=ending.state)
