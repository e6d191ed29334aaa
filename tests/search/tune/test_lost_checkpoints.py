"""A trial whose checkpoint is gone when Ray is about to restore it starts from scratch instead
of failing; one whose checkpoint is there is restored as usual. (End to end, with a SIGKILLed
driver: tests/integration/test_resilience.py and test_object_store.py.)"""

from __future__ import annotations

import shutil

import pyarrow.fs as pafs
from ray.train import Checkpoint
from ray.train._internal.session import _TrainingResult
from ray.tune.experiment import Trial

from search.tune.lost_checkpoints import RestartLostCheckpoints


def trial_with_checkpoint(folder):
    folder.mkdir()
    trial = Trial("__fake", config={"learning_rate": 0.01}, stub=True)
    checkpoint = Checkpoint(path=str(folder), filesystem=pafs.LocalFileSystem())
    trial.run_metadata.checkpoint_manager.register_checkpoint(
        _TrainingResult(checkpoint=checkpoint, metrics={"step": 8}))
    return trial


def test_a_trial_whose_checkpoint_is_gone_starts_again(tmp_path, capsys):
    trial = trial_with_checkpoint(tmp_path / "checkpoint_000001")
    shutil.rmtree(tmp_path / "checkpoint_000001")
    config = trial.run_metadata.checkpoint_manager.checkpoint_config
    RestartLostCheckpoints().on_trial_start(0, [trial], trial)
    assert trial.checkpoint is None and trial.latest_checkpoint_result is None
    assert trial.run_metadata.checkpoint_manager.checkpoint_config == config  # num_to_keep
    assert f"trial {trial.trial_id}: its checkpoint is gone" in capsys.readouterr().out


def test_a_trial_whose_checkpoint_is_there_is_restored_from_it(tmp_path, capsys):
    trial = trial_with_checkpoint(tmp_path / "checkpoint_000001")
    RestartLostCheckpoints().on_trial_start(0, [trial], trial)
    assert trial.checkpoint.path == str(tmp_path / "checkpoint_000001")
    assert capsys.readouterr().out == ""
    fresh = Trial("__fake", config={}, stub=True)  # a new trial: nothing to restore
    RestartLostCheckpoints().on_trial_start(0, [fresh], fresh)
    assert fresh.checkpoint is None
