"""A sweep's trials, run: Ray Tune drives them (``search/tune/tuner.py``) with the sweep's
decisions, its progress line, its trackers, the keep policy as reports arrive and, for a run
directory in an object store, the uploads."""

from __future__ import annotations

from typing import Any

from search.core.driver_log import DriverLog
from search.lifecycle.decisions import decisions, study_ref
from search.lifecycle.tracking import make_trackers
from search.spec.estimate import expected_share
from search.spec.model import SweepSpec
from search.store.freeze_ledger import FreezeLedger
from search.store.rundir import RunDir
from search.store.stop_ledger import StopLedger
from search.trackers.base import Tracker


def run_trials(spec: SweepSpec, run_dir: RunDir, quiet: bool = False, function: Any = None,
               log: DriverLog | None = None) -> list[Tracker]:
    """Run every trial of the sweep; returns its trackers (for ``finish_sweep``). ``log``: where
    the libraries' output goes meanwhile.

    ``function``: the Tune function each trial runs instead of ``run_trial`` (an extension
    point, docs/architecture.md: confirm's re-trainings, the tests' injected faults, the
    benchmarks' sleeping or replayed trials).
    """
    from search.tune.cluster import start_ray
    from search.tune.keep_as_reported import KeepAsReported
    from search.tune.progress import ProgressPrinter
    from search.tune.tracker_callback import TrackerCallback
    from search.tune.tuner import build_tuner, fit, make_trainable
    from search.tune.uploader import RunDirUploader
    from trainables.trial.entry import run_trial

    start_ray()
    ledger = StopLedger(run_dir.stops_file)
    trackers = make_trackers(spec, run_dir, quiet)
    metric, mode = spec.objective.metric, spec.objective.mode
    freezes = FreezeLedger(run_dir.freezes_file)
    decided_by = decisions(spec, study_ref(spec, run_dir.path.name, run_dir.path), ledger,
                           freezes)
    progress = ProgressPrinter(metric, spec.search.num_trials, ledger, quiet=quiet, mode=mode,
                               freezes=freezes if spec.scheduler.type == "freeze" else None,
                               after=f"then check {spec.check.top}" if spec.check else None,
                               expected_share=expected_share(spec))
    callbacks = [progress, TrackerCallback(
        trackers, ledger, freezes=freezes if spec.scheduler.type == "freeze" else None),
        KeepAsReported(run_dir, spec)]
    if run_dir.remote:
        callbacks.append(RunDirUploader(run_dir))
    tuner = build_tuner(
        spec, run_dir, name=run_dir.path.name,
        trainable=make_trainable(spec, function=function or run_trial),
        num_samples=spec.search.num_trials, search_alg=decided_by.searcher,
        scheduler=decided_by.scheduler, stopper=decided_by.stopper, callbacks=callbacks)
    try:
        fit(tuner, run_dir, log)
    finally:
        progress.close()
    return trackers
