"""The one place where Ray Tune's Tuner, TuneConfig and RunConfig meet the trainable."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

from search.cluster import DRIVER_CPU
from search.console import make_console
from search.gap_stopper import GapStopper
from search.location import LocationError, is_object_store, join, mirror_of, parent_of
from search.mirroring import RunDirUploader
from search.progress import ProgressPrinter
from search.pruning import GapRule
from search.rundir import STOPS_FILE, SWEEP_FILE, RunDir
from search.searcher import HonestOptunaSearch, StudyRef
from search.space import split_space
from search.spec import SpecError, SweepSpec, dump_spec, trial_settings
from search.stops import StopLedger
from search.tracking import WandbTracker
from trainables.entry import run_trial

REMOTE_SYNC_PERIOD_S = 30


def fixed_settings(spec: SweepSpec) -> dict:
    """The sweep's settings that every trial shares (everything but the search space)."""
    return spec.model_dump(mode="json", exclude={"space"})


def new_run_dir(spec: SweepSpec) -> RunDir:
    """A fresh run directory ``<output_dir>/<name>-<timestamp>`` holding the validated sweep.

    In an object store, the files are written to the run's mirror on this machine and
    uploaded; a store that cannot be written to is refused before any trial starts.
    """
    name = f"{spec.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    if not is_object_store(spec.output_dir):
        run = RunDir(Path(spec.output_dir) / name)
    else:
        remote = join(spec.output_dir, name)
        run = RunDir(mirror_of(remote), remote=remote)
    run.path.mkdir(parents=True, exist_ok=False)
    (run.path / SWEEP_FILE).write_text(dump_spec(spec))
    try:
        run.push()
    except LocationError as error:
        shutil.rmtree(run.path, ignore_errors=True)
        raise SpecError([f"output_dir: cannot write the run directory: {error}"]) from error
    return run


def ray_storage(run: RunDir) -> str:
    """Ray's ``storage_path`` for a run: the folder or bucket prefix that holds it."""
    return parent_of(run.remote) if run.remote else str(run.path.parent)


def make_scheduler(spec: SweepSpec) -> TrialScheduler:
    """ASHA over optimizer steps (the trials report ``step``), or FIFO."""
    if spec.scheduler.type == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr="step",
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


def start_ray(address: str | None = None) -> None:
    """Connect to a Ray cluster (``address``, else ``RAY_ADDRESS``; ``auto`` finds a local
    one), or start a quiet local instance."""
    address = address or os.environ.get("RAY_ADDRESS")
    # A best-only checkpoint (num_to_keep=1) forces a state snapshot at each improvement; on a
    # small sweep that is cheap, and Ray's warning about it is noise.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    if ray.is_initialized():
        return
    # Worker output (DeepSpeed's banners, HF warnings) would drown basin's own progress lines.
    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"TOKENIZERS_PARALLELISM": "false"}})


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


@dataclass
class SweepOutcome:
    """What a finished sweep hands back: Ray's result grid and the W&B tracker."""

    grid: tune.ResultGrid
    tracker: WandbTracker


def make_tracker(spec: SweepSpec, run_dir: Path, ledger: StopLedger, quiet: bool) -> WandbTracker:
    return WandbTracker(spec.tracking.wandb, run_dir, group=run_dir.name,
                        fixed_config=fixed_settings(spec), objective=spec.objective.metric,
                        ledger=ledger, console=None if quiet else make_console())


def make_trainable(spec: SweepSpec, evaluate_test: bool = False,
                   function: Any = run_trial) -> Any:
    """The Tune function with the sweep's fixed settings and per-trial resources attached."""
    settings = trial_settings(spec).model_copy(update={"evaluate_test": evaluate_test})
    return tune.with_resources(tune.with_parameters(function, settings=settings.model_dump()),
                               trial_resources(spec))


def run_sweep(spec: SweepSpec, run: RunDir, quiet: bool = False,
              function: Any = run_trial) -> SweepOutcome:
    """Run every trial of the sweep; W&B runs are logged as the trials go.

    ``function`` is the Tune function each trial runs; benchmarks swap in a trivial one to
    measure what basin adds around a trial.
    """
    start_ray()
    run_dir = run.path
    ledger = StopLedger(run_dir / STOPS_FILE)
    tracker = make_tracker(spec, run_dir, ledger, quiet)
    distributions, constants = split_space(spec.space)
    study_ref = StudyRef(
        name=spec.name, run_dir=run_dir, storage_url=spec.search.storage,
        sampler=spec.search.sampler, seed=spec.search.seed, num_trials=spec.search.num_trials,
        direction="minimize" if spec.objective.mode == "min" else "maximize",
    )
    searcher = HonestOptunaSearch(study_ref, distributions, constants, ledger,
                                  spec.objective.metric, spec.objective.mode)
    gap = spec.gap_pruning
    stopper = (
        GapStopper(GapRule(gap.threshold, gap.relative, gap.patience, gap.grace_steps), ledger)
        if gap.enabled else None
    )
    callbacks = [ProgressPrinter(spec.objective.metric, spec.search.num_trials, quiet=quiet),
                 tracker]
    if run.remote:
        callbacks.append(RunDirUploader(run))
    tuner = tune.Tuner(
        make_trainable(spec, function=function),
        tune_config=tune.TuneConfig(
            metric=spec.objective.metric,
            mode=spec.objective.mode,
            search_alg=searcher,
            scheduler=make_scheduler(spec),
            num_samples=spec.search.num_trials,
            max_concurrent_trials=max_concurrent_trials(spec),
            reuse_actors=False,  # every trial gets a clean process (process group, DeepSpeed)
        ),
        run_config=tune.RunConfig(
            name=run_dir.name,
            storage_path=ray_storage(run),
            # In an object store, trial reports reach the bucket at this pace (Ray's default
            # is 5 minutes), which is how fresh `basin status s3://...` can be.
            sync_config=tune.SyncConfig(sync_period=REMOTE_SYNC_PERIOD_S),
            stop=stopper,
            # Ray keeps the best checkpoint by the objective and always the latest one.
            checkpoint_config=tune.CheckpointConfig(
                num_to_keep=1,
                checkpoint_score_attribute=spec.objective.metric,
                checkpoint_score_order=spec.objective.mode,
            ),
            # A trial whose worker or node died restarts from its latest checkpoint.
            failure_config=tune.FailureConfig(max_failures=spec.resources.max_failures),
            callbacks=callbacks,
            verbose=0,
        ),
    )
    return SweepOutcome(tuner.fit(), tracker)


def check_resumable(run: RunDir) -> None:
    """Refuse a run directory for which Ray never saved experiment state."""
    if not tune.Tuner.can_restore(run.location):
        raise SpecError([f"{run.shown}: nothing to resume (Ray never saved this sweep's state)"])


def resume_sweep(spec: SweepSpec, run: RunDir, quiet: bool = False) -> SweepOutcome:
    """Continue a sweep whose driver stopped: finished trials stay, unfinished ones continue
    from their latest checkpoint, new ones fill the sweep up to its number of trials."""
    start_ray()
    tuner = tune.Tuner.restore(run.location, trainable=make_trainable(spec),
                               resume_unfinished=True, resume_errored=False,
                               restart_errored=False)
    grid = tuner.fit()
    return SweepOutcome(grid, make_tracker(spec, run.path, StopLedger(run.path / STOPS_FILE),
                                           quiet))
