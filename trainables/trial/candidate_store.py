"""Keep every evaluation's candidate where the driver finds it.

At each evaluation the trial saves a checkpoint folder. Its exportable part (the adapter with
the head, the step's metrics and probe; not the DeepSpeed state) is copied here into the
trial's own folder of the sweep's storage, ``<trial>/candidates/step_<step>/``: a shared path
or a bucket, through the pyarrow filesystem Ray itself uses. The whole folder then goes to Ray
as the trial's checkpoint, of which Ray keeps only the latest two (resume). So every step stays a
candidate for what the sweep hands on, at the size of an adapter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from trainables.contract import CANDIDATES_FOLDER, STATE_DIR, TRIAL_METRICS_FILE, candidate_name


@dataclass(frozen=True)
class CandidateStore:
    """A trial's folder in the sweep's storage (a path on ``filesystem``, a pyarrow
    filesystem: picklable, so Ray Train workers get it in their loop config)."""

    trial_path: str
    filesystem: Any

    def publish(self, checkpoint_dir: str, step: int) -> None:
        """Copy the exportable part of ``checkpoint_dir`` to ``candidates/step_<step>``. Only
        rank 0's folder holds it; other ranks' folders (DeepSpeed state only) are skipped.
        The metrics file goes last: a candidate cut short by a crash has none and is ignored."""
        import pyarrow.fs as pafs

        if not os.path.isfile(os.path.join(checkpoint_dir, TRIAL_METRICS_FILE)):
            return
        target = f"{self.trial_path.rstrip('/')}/{CANDIDATES_FOLDER}/{candidate_name(step)}"
        self.filesystem.create_dir(target, recursive=True)
        names = sorted(name for name in os.listdir(checkpoint_dir) if name != STATE_DIR)
        names.sort(key=lambda name: name == TRIAL_METRICS_FILE)
        for name in names:
            pafs.copy_files(os.path.join(checkpoint_dir, name), f"{target}/{name}",
                            destination_filesystem=self.filesystem)


def store_of_this_trial() -> CandidateStore:
    """The running Tune trial's folder in the sweep's storage."""
    from ray import tune

    storage = tune.get_context().get_storage()
    return CandidateStore(storage.trial_fs_path, storage.storage_filesystem)
