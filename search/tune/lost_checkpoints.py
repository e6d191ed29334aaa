"""A trial whose checkpoint is gone is trained again from step 0, not failed.

When ``basin resume`` restores a sweep, Ray restarts each unfinished trial from the checkpoint
its saved state names. That checkpoint can be gone: in an object store Ray uploads its state
every sync period while it deletes a trial's older checkpoints as newer ones arrive, so a driver
killed in between leaves a state naming a deleted checkpoint; an operator may have cleaned the
folder. Ray then fails the trial for good ("Could not recover from checkpoint as it does not
exist on storage anymore", ``ray/tune/trainable/trainable.py``) and the sweep loses that
configuration. This Tune callback looks just before Ray restores a trial (``on_trial_start``
comes right before ``TuneController._schedule_trial_restore``): when the checkpoint is gone,
the trial forgets it and Ray starts it from scratch, with the same configuration and seed, under
the same trial id (so Optuna is told of it once). Its reports of the steps it trains again
replace the earlier ones (``search/store/trial_folder.py``: ``history``).
"""

from __future__ import annotations

import pyarrow.fs as pafs
from ray.train._internal.checkpoint_manager import _CheckpointManager
from ray.tune import Callback

from search.core.console import make_console


def checkpoint_is_gone(checkpoint) -> bool:
    """Whether a Ray ``Checkpoint``'s folder no longer exists on its filesystem."""
    try:
        info = checkpoint.filesystem.get_file_info(checkpoint.path)
    except OSError:  # the store is out of reach: let Ray try, and fail or retry, as it would
        return False
    return info.type == pafs.FileType.NotFound


class RestartLostCheckpoints(Callback):
    """Before Ray restores a trial, drop a checkpoint that no longer exists."""

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        checkpoint = trial.checkpoint
        if checkpoint is None or not checkpoint_is_gone(checkpoint):
            return
        manager = trial.run_metadata.checkpoint_manager
        trial.run_metadata.checkpoint_manager = _CheckpointManager(
            checkpoint_config=manager.checkpoint_config)
        trial._restore_checkpoint_result = None  # Ray's fallback for tune.run(restore=...)
        make_console().print(
            f"[yellow]trial {trial.trial_id}: its checkpoint is gone ({checkpoint.path}); "
            "training it again from step 0 with the same configuration and seed[/yellow]")
