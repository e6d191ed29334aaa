"""The trackers a sweep file switches on, made for one run directory."""

from __future__ import annotations

import functools
from pathlib import Path

from search.core.console import make_console
from search.spec.model import SweepSpec
from search.store import trial_folder
from search.store.rundir import RunDir
from search.trackers.base import Tracker, TrackerContext


def trial_history(run_path: Path, trial_id: str) -> list[dict]:
    """Every report of one trial of the run directory at ``run_path`` (a tracker reads it to
    log a restarted trial's history again; a plain function, as Ray pickles the trackers)."""
    folder = trial_folder.trial_folders_in(run_path).get(trial_id)
    return trial_folder.history(folder) if folder else []


def make_trackers(spec: SweepSpec, run: RunDir, quiet: bool = False, job_type: str = "trial"
                  ) -> list[Tracker]:
    """A tracker for every one the sweep file switches on (W&B unless its mode is
    ``disabled``); ``job_type`` says what their runs are (``confirm``: basin confirm's
    re-trainings)."""

    context = TrackerContext(
        run_path=run.path, group=run.path.name,
        fixed_config=spec.model_dump(mode="json", exclude={"space"}),
        objective=spec.objective.metric, console=None if quiet else make_console(),
        job_type=job_type, history=functools.partial(trial_history, run.path))
    return [settings.build(context) for settings in spec.tracking.all().values()
            if settings.enabled]
