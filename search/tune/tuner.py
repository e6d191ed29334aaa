"""The one place where Ray Tune's Tuner, TuneConfig and RunConfig meet the trainable.

``build_tuner`` serves a sweep (``search/lifecycle/run.py``) and ``basin confirm`` alike: the same
resources, storage, checkpointing and failure handling for every trial basin runs.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

from search.core.driver_log import DriverLog
from search.core.signals import sigint_handler_kept, stop_on_sigterm
from search.core.uris import parent_of
from search.spec.model import SweepSpec, trial_settings
from search.spec.step_budget import step_budget
from search.store.freeze_ledger import FreezeLedger
from search.store.rundir import RunDir, trial_id_of
from search.store.stop_ledger import StopLedger
from search.tune.atomic_state import keep_experiment_state_whole
from search.tune.cluster import DRIVER_CPU
from search.tune.freezing import FreezingScheduler
from search.tune.lost_checkpoints import RestartLostCheckpoints
from search.tune.restored_state import settle_restored_state
from search.tune.result_logger import ResultLogger
from trainables.contract import STEP
from trainables.trial.entry import run_trial

REMOTE_SYNC_PERIOD_S = 30
# Ray reads its experiment-snapshot period from this variable when a Tuner starts fitting.
SNAPSHOT_PERIOD_ENV = "TUNE_GLOBAL_CHECKPOINT_S"


def fit(tuner: tune.Tuner, run: RunDir, log: DriverLog | None = None) -> tune.ResultGrid:
    """``tuner.fit()`` with Ray snapshotting its state at every step of its loop, for a run
    directory on a path.

    Ray deletes a trial's older checkpoint when it registers a new one, before it snapshots
    its state: with one checkpoint kept, a driver killed in between leaves a snapshot that
    names a deleted checkpoint, and that trial cannot resume. So Ray keeps two (build_tuner)
    and snapshots right after each registration (a few KB of JSON): the snapshot always names
    the newer of the two, and the older is only deleted after that. The setting is scoped to
    this call (a user's own value is kept), so other Tuners in the process keep Ray's period.

    Not for a run in an object store: Ray rewrites its state file in place while its upload
    of the previous snapshot may still be reading it (ray/tune/execution/experiment_state.py),
    and every-step snapshots made that torn upload frequent enough to lose a resume in CI.
    There Ray keeps its own period (docs/clusters.md says what that costs).

    With ``log``, what Ray Tune prints while it fits goes to the driver log. SIGTERM stops
    the fit as Ctrl-C does, and after it Ctrl-C is what it was before (``search.core.signals``).
    """
    stop_on_sigterm()  # after ray.init, which makes SIGTERM exit at once
    keep_experiment_state_whole()  # a kill mid-snapshot must not lose the sweep
    settle_restored_state()  # nor a kill between the snapshot's files
    ours = SNAPSHOT_PERIOD_ENV not in os.environ and run.remote is None
    if ours:
        os.environ[SNAPSHOT_PERIOD_ENV] = "0"
    try:
        with log.prints() if log else contextlib.nullcontext(), sigint_handler_kept():
            return tuner.fit()
    finally:
        if ours:
            os.environ.pop(SNAPSHOT_PERIOD_ENV, None)


def ray_storage(run: RunDir) -> str:
    """Ray's ``storage_path`` for a run: the folder or bucket prefix that holds it."""
    return parent_of(run.remote) if run.remote else str(run.path.parent)


def make_scheduler(spec: SweepSpec, freezes: FreezeLedger | None = None,
                   stops: StopLedger | None = None) -> TrialScheduler:
    """ASHA over optimizer steps (the trials report ``step``), freezing successive halving
    (its ledgers: the freezes and the stops), or FIFO."""
    if spec.scheduler.type == "fifo":
        return FIFOScheduler()
    if spec.scheduler.type == "freeze":
        return FreezingScheduler(
            max_t=spec.training.max_steps, grace_period=spec.scheduler.grace_period,
            reduction_factor=spec.scheduler.reduction_factor,
            freezes=freezes or FreezeLedger(), stops=stops or StopLedger(),
            slots=trial_slots(spec), thaw=spec.scheduler.thaw,
            max_total_steps=step_budget(spec.search.max_total_steps, spec.search.num_trials,
                                        spec.training.max_steps))
    return ASHAScheduler(
        time_attr=STEP,
        max_t=spec.training.max_steps,
        grace_period=spec.scheduler.grace_period,
        reduction_factor=spec.scheduler.reduction_factor,
        brackets=spec.scheduler.brackets,
    )


def trial_resources(spec: SweepSpec) -> dict[str, float]:
    """What Tune reserves for one trial's own process.

    A one-worker trial trains in that process. A multi-worker trial's process only drives a
    TorchTrainer whose workers reserve their own CPUs/GPUs, so it asks for a sliver of a CPU.
    """
    resources = spec.resources
    if resources.workers == 1:
        return {"cpu": resources.cpus_per_worker, "gpu": resources.gpus_per_worker}
    return {"cpu": DRIVER_CPU}


def max_concurrent_trials(spec: SweepSpec) -> int | None:
    """The sweep's limit, or, for multi-worker trials, as many as the cluster's CPUs and GPUs
    hold at once: their drivers reserve almost nothing, so without a limit Tune would start
    more trials than there are workers and they would wait on each other forever."""
    if spec.search.max_concurrent_trials or spec.resources.workers == 1:
        return spec.search.max_concurrent_trials
    total = ray.cluster_resources()
    per_trial = {"CPU": spec.resources.workers * spec.resources.cpus_per_worker,
                 "GPU": spec.resources.workers * spec.resources.gpus_per_worker}
    fits = [int(total.get(name, 0) // need) for name, need in per_trial.items() if need > 0]
    return max(1, min(fits))


def trial_slots(spec: SweepSpec) -> int:
    """How many trials run at once: the sweep's limit, or as many as the cluster holds."""
    if spec.search.max_concurrent_trials:
        return spec.search.max_concurrent_trials
    if spec.resources.workers > 1:
        return max_concurrent_trials(spec) or 1
    cpus = ray.cluster_resources().get("CPU", 1) if ray.is_initialized() else 1
    return max(1, int(cpus // spec.resources.cpus_per_worker))


def reuses_workers(spec: SweepSpec) -> bool:
    """Whether a trial slot's process runs the next trial too (trainables/warm.py says what it
    keeps). Only for one-worker trials: a multi-worker trial's process merely drives a Ray
    Train worker group, which Ray starts anew for every trial, so there is nothing to keep."""
    return spec.resources.warm_workers and spec.resources.workers == 1


def make_trainable(spec: SweepSpec, evaluate_test: str = "never",
                   function: Any = run_trial) -> Any:
    """The Tune function with the sweep's fixed settings and per-trial resources attached."""
    settings = trial_settings(spec).model_copy(update={"evaluate_test": evaluate_test})
    return tune.with_resources(tune.with_parameters(function, settings=settings.model_dump()),
                               trial_resources(spec))


def build_tuner(spec: SweepSpec, run: RunDir, *, name: str, trainable: Any,
                num_samples: int = 1, search_alg: Any = None,
                scheduler: TrialScheduler | None = None, stopper: tune.Stopper | None = None,
                param_space: dict | None = None, callbacks: list | None = None,
                inside_run: bool = False, folder_name: Any = trial_id_of) -> tune.Tuner:
    """A Tuner whose experiment ``name`` is the run directory itself (a sweep), or a folder
    inside it (``inside_run``: basin confirm), with the sweep's resources and concurrency;
    a trial that met a fault of the machine restarts from its latest checkpoint. ``folder_name``
    names each trial's folder (default: the trial's id)."""
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=spec.objective.metric,
            mode=spec.objective.mode,
            search_alg=search_alg,
            scheduler=scheduler,
            num_samples=num_samples,
            max_concurrent_trials=max_concurrent_trials(spec),
            reuse_actors=reuses_workers(spec),
            trial_dirname_creator=folder_name,
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=run.location if inside_run else ray_storage(run),
            # In an object store, trial reports reach the bucket at this pace (Ray's default
            # is 5 minutes), which is how fresh `basin status s3://...` can be.
            sync_config=tune.SyncConfig(sync_period=REMOTE_SYNC_PERIOD_S),
            stop=stopper,
            # Ray keeps each trial's latest two checkpoints, for resume (see fit; a
            # resumed trial repeats at most the evaluation in flight); every evaluation's
            # candidate is kept apart by the trial (trainables/trial/candidate_store.py).
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            failure_config=tune.FailureConfig(max_failures=spec.resources.max_failures),
            # Ray adds its own JSON logger only when none is given (result_logger says why).
            callbacks=[*(callbacks or []), ResultLogger(), RestartLostCheckpoints()],
            verbose=0,
        ),
    )
