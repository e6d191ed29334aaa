"""The Ray Tune function that runs one trial.

A one-worker trial runs the loop right here, in the Tune trial's own process, inside a
single-process gloo/nccl group: it skips the ~25 s that starting a Ray Train worker group costs
on a small machine. A trial with several workers launches a Ray Train ``TorchTrainer`` from
here (the Ray Train V2 way) and forwards rank 0's reports to Tune.
"""

from __future__ import annotations

import atexit
import functools
import math
import os
import shutil
import socket
import time
import traceback
from typing import Any

import torch
import torch.distributed as dist

from trainables.contract import IS_FINAL, STEP, VAL_LOSS
from trainables.settings import Hyperparameters, TrialSettings
from trainables.trial.candidate_store import CandidateStore, store_of_this_trial
from trainables.trial.faults import is_machine_fault


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def init_single_process_group(backend: str = "gloo") -> None:
    """Make this process a group of its own (rank 0 of 1), the setting DeepSpeed and the loop's
    all-reduces expect from a one-worker trial.

    The group's store is an in-process ``HashStore``: a group of one has nobody to meet. The
    ``TCPStore`` that ``MASTER_ADDR`` would give (a server and a client on loopback) made
    c10d name its IPv4-mapped peer (``::ffff:127.0.0.1``) with a reverse DNS lookup, which
    ``/etc/hosts`` does not answer: a query to the machine's resolver at every trial's start.
    The variables stay set for DeepSpeed, which reads them.

    The group is torn down when the process exits: left to the interpreter's shutdown, gloo's
    threads were sometimes destroyed still running and C++ aborted the finished process
    ("terminate called without an active exception", SIGABRT after its output was printed).
    """
    os.environ.update(
        RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", LOCAL_WORLD_SIZE="1",
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()),
    )
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    atexit.register(_leave_process_group)


def _leave_process_group() -> None:
    """Destroy this process's group if it still has one (the loop or a user may have)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def trial_folder() -> str:
    """The running trial's own folder, where its ``trial.log`` and ``error.txt`` go.

    Not ``tune.get_context().get_trial_dir()``: Ray gives a trial that starts a process the
    trial's folder there, but a trial handed a reused (warm) process a local working folder
    that nothing copies to the sweep's storage (Ray 2.60, ``FunctionTrainable.setup`` against
    ``reset_config``). This is the folder ``setup`` gives.
    """
    from ray import tune

    folder = tune.get_context().get_storage().trial_driver_staging_path
    os.makedirs(folder, exist_ok=True)
    return folder


def _with_node(metrics: dict) -> dict:
    """Name the Ray node this worker runs on, so a sweep shows where its trials ran."""
    import ray

    return {**metrics, "node_id": ray.get_runtime_context().get_node_id()}


def report_to_tune(store: CandidateStore, metrics: dict, checkpoint_dir: str | None) -> None:
    """One evaluation's report to Ray Tune, its checkpoint published to the trial's candidate
    store first (the replay benchmark's trainable reports through it too)."""
    from ray import tune

    if checkpoint_dir:
        store.publish(checkpoint_dir, metrics[STEP])
    metrics = _with_node(metrics)
    checkpoint = tune.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
    try:
        tune.report(metrics, checkpoint=checkpoint)
    finally:  # also when Ray ends the trial inside report (a stop after its last result)
        if checkpoint_dir:
            shutil.rmtree(checkpoint_dir, ignore_errors=True)  # Ray has copied it to storage


def _report_to_train(store: CandidateStore, metrics: dict, checkpoint_dir: str | None) -> None:
    import ray.train

    if checkpoint_dir:
        store.publish(checkpoint_dir, metrics[STEP])
    metrics = _with_node(metrics)
    checkpoint = ray.train.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
    try:
        ray.train.report(metrics, checkpoint=checkpoint)
    finally:
        if checkpoint_dir:
            shutil.rmtree(checkpoint_dir, ignore_errors=True)


def _resumed(get_checkpoint: Any, hp: Hyperparameters, settings: TrialSettings,
             report: Any, started_at: float | None = None) -> None:
    """Train, continuing from the trial's latest checkpoint if Ray hands one over (a trial
    restarted after a crash or by ``basin resume``)."""
    from trainables.recipe.loop import train  # the driver never needs DeepSpeed or transformers

    checkpoint = get_checkpoint()
    if checkpoint is None:
        train(hp, settings, report, started_at=started_at)
        return
    with checkpoint.as_directory() as folder:
        train(hp, settings, report, resume_from=folder, started_at=started_at)


def _train_in_this_process(hp: Hyperparameters, settings: TrialSettings,
                           started_at: float) -> None:
    """One worker: a one-process group so DeepSpeed and the all-reduces work unchanged.

    The group lives as long as the process: a warm worker's next trial uses it again (it holds
    no trial's state, only the process's rank 0 of 1)."""
    from ray import tune

    use_gpu = settings.gpus_per_worker > 0 and torch.cuda.is_available()
    if not dist.is_initialized():
        init_single_process_group("nccl" if use_gpu else "gloo")
    _resumed(tune.get_checkpoint, hp, settings,
             functools.partial(report_to_tune, store_of_this_trial()), started_at)


def _train_worker(loop_config: dict) -> None:
    """The function every Ray Train worker runs; Ray Train has set up the process group."""
    import ray.train

    _resumed(ray.train.get_checkpoint, Hyperparameters(**loop_config["hyperparameters"]),
             TrialSettings(**loop_config["settings"]),
             functools.partial(_report_to_train, loop_config["candidates"]))


def worker_group_trainer(hp: Hyperparameters, settings: TrialSettings,
                         worker: Any = None, backend: str | None = None) -> Any:
    """The TorchTrainer of a trial with several workers: ``settings.workers`` workers with
    their CPUs and GPUs and placement strategy, whose rank-0 reports are forwarded to this
    Tune trial. ``worker`` (default: the recipe) is what each worker runs; ``backend``
    (default: nccl on GPUs, else gloo) its process group's."""
    import ray.train
    from ray import tune
    from ray.train.torch import TorchConfig, TorchTrainer
    from ray.tune.integration.ray_train import TuneReportCallback

    use_gpu = settings.gpus_per_worker > 0
    storage = tune.get_context().get_storage()
    resources = {"CPU": settings.cpus_per_worker}
    if use_gpu:
        resources["GPU"] = settings.gpus_per_worker
    return TorchTrainer(
        worker or _train_worker,
        train_loop_config={
            "hyperparameters": hp.model_dump(),
            "settings": settings.model_dump(),
            "candidates": store_of_this_trial(),
        },
        torch_config=TorchConfig(backend=backend or ("nccl" if use_gpu else "gloo")),
        scaling_config=ray.train.ScalingConfig(
            num_workers=settings.workers,
            use_gpu=use_gpu,
            resources_per_worker=resources,
            placement_strategy=settings.placement_strategy,
        ),
        # Inside the trial's own folder in the sweep's storage (a shared path or a bucket), so
        # the workers' checkpoints outlive the node they ran on and the driver finds them.
        run_config=ray.train.RunConfig(
            name="train",
            storage_path=storage.trial_fs_path,
            storage_filesystem=storage.storage_filesystem,
            callbacks=[TuneReportCallback()],
            # The latest, for resume; every step's candidate is kept apart (see candidates.py).
            checkpoint_config=ray.train.CheckpointConfig(num_to_keep=1),
        ),
    )


def _train_with_worker_group(hp: Hyperparameters, settings: TrialSettings) -> None:
    """Several workers: a TorchTrainer whose rank-0 reports are forwarded to this Tune trial."""
    worker_group_trainer(hp, settings).fit()


def report_outcome(outcome: str, reason: str, objective_metric: str) -> None:
    """A last report that says how the trial ended when it could not finish training.

    It carries every metric the driver watches (as NaN), because Tune rejects a report
    without them.
    """
    from ray import tune

    from trainables.contract import OUTCOME, OUTCOME_REASON, REPORTED_METRICS

    metrics = {name: math.nan for name in REPORTED_METRICS}
    metrics.update({IS_FINAL: False, OUTCOME: outcome, OUTCOME_REASON: reason})
    metrics[objective_metric] = math.nan
    tune.report(metrics)


def run_trial(config: dict[str, Any], settings: dict[str, Any]) -> None:
    """Ray Tune entry point: ``config`` holds the trial's hyperparameters, ``settings`` the
    sweep's fixed ``TrialSettings`` as a dict.

    A trial that diverges or raises ends with a report naming what happened, instead of an
    error: Tune would retry an error (``max_failures``), which is meant for faults of the
    machine (``trainables/trial/faults.py``: a lost worker, a full disk), not for a
    configuration that cannot train. Everything the trial does is inside that handling, its
    imports and the reading of its settings too. The traceback goes to the trial's
    ``error.txt``; what the trial prints, to its ``trial.log``.
    """
    from trainables.trial.output import output_to
    from trainables.warm import release_trial_memory

    started_at = time.time()  # before the heavy imports: start-up includes them
    try:
        with output_to(trial_folder()):
            _run_trial(config, settings, started_at)
    except SystemExit as stopped:  # Ray ends a stopped trial inside tune.report
        # The stopped trial's frames (its model, engine, batches) would live on in the
        # traceback; a warm worker's next trial needs that memory.
        traceback.clear_frames(stopped.__traceback__)
        raise
    finally:
        release_trial_memory()


def _run_trial(config: dict[str, Any], settings: dict[str, Any], started_at: float) -> None:
    from trainables.contract import ERROR_FILE, OUTCOME_DIVERGED, OUTCOME_FAILED

    objective_metric = settings.get("objective_metric", VAL_LOSS)
    diverged_message = None  # known once the loop is imported
    try:
        from trainables.recipe.loop import Diverged

        diverged_message = Diverged.MESSAGE
        hp = Hyperparameters(**config)
        trial_settings = TrialSettings(**settings)
        if trial_settings.workers == 1:
            _train_in_this_process(hp, trial_settings, started_at)
        else:
            _train_with_worker_group(hp, trial_settings)
    except Exception as error:  # noqa: BLE001 - any error of the configuration ends the trial
        if is_machine_fault(error):
            raise  # not the configuration's: Tune retries the trial from its checkpoint
        # This worker, or a worker of its group, diverged.
        if diverged_message and diverged_message in str(error):
            report_outcome(OUTCOME_DIVERGED, str(error).splitlines()[0], objective_metric)
            return
        trial_dir = trial_folder()
        with open(os.path.join(trial_dir, ERROR_FILE), "w") as handle:
            handle.write(traceback.format_exc())
        report_outcome(OUTCOME_FAILED, f"{type(error).__name__}: {error}".splitlines()[0],
                        objective_metric)
