"""Keeps the run directory's size bounded while the sweep runs (the sweep file's ``keep``).

A Tune callback: at each report it adds the evaluation's candidate to what it knows and deletes
the weights of every candidate the policy no longer keeps (``search/selection/keep.py``); once
Ray has recorded a trial as ended, it deletes that trial's resume checkpoints. The sweep's last
pass (``search/store/keep_final_pass.py``) deletes what is left over: a resumed sweep's callback
is the one Ray pickled when the sweep started, which knows none of the candidates reported before
the driver stopped (they all still compete: a deleted candidate only ever was a worse one).
"""

from __future__ import annotations

import os

from ray.tune import Callback
from ray.tune.experiment import Trial

from search.core.console import make_console
from search.selection.candidates import Candidate, candidate_from
from search.selection.keep import Key, kept
from search.spec.model import SweepSpec
from search.store.keep_final_pass import candidate_folder, ray_checkpoints
from search.store.object_store import LocationError
from search.store.rundir import RunDir, trial_id_of
from search.tune.tuner import SNAPSHOT_PERIOD_ENV
from trainables.contract import VAL_DISTINCT_PREDICTIONS


class KeepAsReported(Callback):
    """Delete, as the sweep goes, the candidates the ``keep`` policy drops and the resume
    checkpoints of trials that ended."""

    def __init__(self, run: RunDir, spec: SweepSpec):
        self.run = run
        self.keep = spec.keep
        self.criterion = spec.selection
        self.metric, self.mode = spec.objective.metric, spec.objective.mode
        self.candidates: dict[Key, Candidate] = {}
        self.collapsed: set[Key] = set()  # one output for every example: never chosen
        self.deleted: set[Key] = set()
        self.cleared: set[str] = set()  # trials whose resume checkpoints are gone

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        if self.keep.keeps_everything:
            return
        trial_id = trial_id_of(trial)
        candidate = candidate_from(trial_id, dict(trial.config), result, self.metric, self.mode)
        if candidate is None:
            return
        key = (trial_id, candidate.step)
        self.candidates[key] = candidate
        if result.get(VAL_DISTINCT_PREDICTIONS) == 1:
            self.collapsed.add(key)
        self._delete_dropped()

    def _delete_dropped(self) -> None:
        everything = list(self.candidates.values())
        eligible = [c for key, c in self.candidates.items() if key not in self.collapsed]
        dropped = self.candidates.keys() - kept(everything, eligible, self.criterion, self.keep)
        for trial_id, step in sorted(dropped - self.deleted):
            if self._removed(candidate_folder(trial_id, step)):
                self.deleted.add((trial_id, step))

    def on_step_end(self, iteration, trials, **info) -> None:
        """Resume checkpoints go only once Ray's snapshot, taken earlier in this step, records
        the trial as ended: a driver killed before that would resume the trial from them. For
        a run in an object store (Ray snapshots it on its own period) the last pass deletes
        them instead."""
        if (self.keep.keeps_everything or self.run.remote is not None
                or os.environ.get(SNAPSHOT_PERIOD_ENV) != "0"):
            return
        for trial in trials:
            trial_id = trial_id_of(trial)
            if trial.status == Trial.TERMINATED and trial_id not in self.cleared:
                self.cleared.add(trial_id)
                for relative in ray_checkpoints(self.run, [trial_id]):
                    self._removed(relative)

    def _removed(self, relative: str) -> bool:
        # A failed delete must not end the sweep: the last pass tries again.
        try:
            self.run.remove(relative)
            return True
        except LocationError as error:
            make_console().print(f"[yellow]could not delete {relative}: {error}[/yellow]")
            return False
