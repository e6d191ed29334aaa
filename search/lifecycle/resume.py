"""A stopped sweep, continued: the run directory checked (same sweep, not finished, Ray's state
saved), the study's journal repaired, and Ray's experiment restored, its unfinished trials
continuing from their latest checkpoints."""

from __future__ import annotations

from search.core.driver_log import DriverLog
from search.core.errors import SpecError
from search.lifecycle.tracking import make_trackers
from search.spec.model import SweepSpec, load_spec
from search.store.rundir import RunDir
from search.trackers.base import Tracker


def reopen(where: str, sweep_file: str | None = None) -> RunDir:
    """A run directory that can be resumed: it ran ``sweep_file`` (when given), has not
    finished, and Ray saved its state."""
    from ray import tune

    run_dir = RunDir.open(where)
    if sweep_file is not None:
        _check_same_sweep(load_spec(sweep_file), run_dir.spec, sweep_file, run_dir.shown)
    if run_dir.finished:
        raise SpecError([f"{run_dir.shown}: this sweep has finished; nothing to resume"])
    if not tune.Tuner.can_restore(run_dir.location):
        raise SpecError([f"{run_dir.shown}: nothing to resume (Ray never saved this sweep's "
                         "state)"])
    _check_state_readable(run_dir)
    return run_dir


def _check_state_readable(run_dir: RunDir) -> None:
    """Refuse an experiment state Ray cannot read (a driver killed while the file was written,
    before basin wrote it whole): Ray would log the error and start the sweep over from its
    first trial instead."""
    import json

    from ray.train._internal.storage import get_fs_and_path
    from ray.tune.execution.experiment_state import _find_newest_experiment_checkpoint

    newest = _find_newest_experiment_checkpoint(run_dir.location)
    filesystem, _ = get_fs_and_path(run_dir.location)
    with filesystem.open_input_stream(newest) as stream:
        text = stream.readall()
    try:
        json.loads(text)
    except ValueError as error:
        problem = "empty" if not text.strip() else f"cut short: {error}"
        raise SpecError([f"{run_dir.shown}: Ray's state {newest.rsplit('/', 1)[-1]} cannot be "
                         f"read ({problem}); the driver was stopped while writing it, and Ray "
                         "would start the sweep over. Its trials are in optuna.journal "
                         "(basin status shows them)"]) from None


def _check_same_sweep(given: SweepSpec, recorded: SweepSpec, given_path: str,
                      run_dir: str) -> None:
    """Refuse to resume a run directory with a different sweep than the one it ran."""
    ignore = {"output_dir"}
    if given.model_dump(exclude=ignore) != recorded.model_dump(exclude=ignore):
        changed = [key for key in type(given).model_fields if key not in ignore
                   and getattr(given, key) != getattr(recorded, key)]
        raise SpecError([f"{given_path}: {run_dir} belongs to a different sweep "
                         f"({recorded.name!r}; differs in: {', '.join(changed)})"])


def dashboard_command(run_dir: RunDir) -> str:
    """The optuna-dashboard command that opens this sweep's study (its journal file as it is,
    or the shared database)."""
    from search.core.layout import JOURNAL_FILE

    storage = run_dir.spec.search.storage or str(run_dir.path / JOURNAL_FILE)
    return f"optuna-dashboard {storage}"


def repair_study(run_dir: RunDir) -> str | None:
    """Before anything appends to the study's journal: move a torn or unreadable tail aside
    (what a driver killed mid-write leaves); says what it moved, or None."""
    from search.core.layout import JOURNAL_FILE
    from search.store.journal import repair_journal

    if run_dir.spec.search.storage:
        return None
    damage = repair_journal(run_dir.path / JOURNAL_FILE)
    return damage.describe() if damage else None


def resume_trials(run_dir: RunDir, quiet: bool = False, log: DriverLog | None = None
                  ) -> list[Tracker]:
    """Continue a sweep whose driver stopped: finished trials stay, unfinished ones continue
    from their latest checkpoint, new ones fill the sweep up to its number of trials. Ray
    restores the searcher, the stopper and the callbacks it pickled with its state."""
    from ray import tune

    from search.tune.cluster import start_ray
    from search.tune.tuner import fit, make_trainable

    spec = run_dir.spec
    start_ray()
    # A trial Ray ended on a fault of the machine (a full disk, a lost node; its retries
    # spent) continues from its latest checkpoint: the fault is not the configuration's. A
    # trial whose configuration failed ended normally, with its outcome, and is not retried.
    tuner = tune.Tuner.restore(run_dir.location, trainable=make_trainable(spec),
                               resume_unfinished=True, resume_errored=True,
                               restart_errored=False)
    fit(tuner, run_dir, log)
    return make_trackers(spec, run_dir, quiet)
