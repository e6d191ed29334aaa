"""Ray Tune's experiment state, written whole or not at all.

Ray 2.60 rewrites ``experiment_state-<session>.json`` in place (``TuneController.save_to_dir``
opens it with "w" and streams the JSON in). basin has it snapshot at every step of the loop
(``search/tune/tuner.py``: ``fit``), so a driver killed at a random moment often dies inside
that write: the file is left empty or cut short, and ``basin resume`` finds nothing it can
read. Ray then restarts the experiment from scratch (seen in the SIGKILL test on a loaded
machine: "Failed to restore the run state ... Restarting experiment").

``write_experiment_state_atomically`` makes the write go to a temporary file beside the
staging folder (not in it: Ray's syncer copies that folder to the run directory meanwhile, and
would list the temporary file and then miss it) and replaces the file with it once complete
(``os.replace`` is atomic on one filesystem), as Ray already does for its searcher and callback
states.

``copy_into_run_directory_atomically`` does the same for the second write: Ray's syncer copies
the staging folder into the run directory (``pyarrow.fs.copy_files``, which also writes each
file in place), and with a snapshot at every step that copy runs all the time. A driver killed
inside it left ``experiment_state-*.json`` empty in the run directory, and the resume in CI
restarted the sweep from scratch (test_frozen_trials_survive_a_killed_driver, 2026-12-07). For
a run directory on a path each file now goes to a temporary name beside it first and replaces
the old one whole; in an object store a PUT is already whole, and Ray's upload is kept.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pyarrow.fs
from ray.train._internal.storage import _FilesystemSyncer, _upload_to_fs_path
from ray.tune.execution.tune_controller import TuneController

_TEMPORARY = "basin-tmp-"


def keep_experiment_state_whole() -> None:
    """Both writes of Ray's experiment state made whole-or-nothing (once per process)."""
    write_experiment_state_atomically()
    copy_into_run_directory_atomically()


def write_experiment_state_atomically() -> None:
    """Wrap ``TuneController.save_to_dir`` (once per process)."""
    original = TuneController.save_to_dir
    if getattr(original, "_basin_atomic", False):
        return

    def save_to_dir(self: TuneController) -> None:
        folder = Path(self._storage.experiment_driver_staging_path)
        final = folder / self.experiment_state_file_name
        # The class's template, swapped while Ray writes (not an instance attribute: Ray
        # saves the controller's __dict__ in the state, and a resumed one would keep it).
        owner = type(self)
        own, template = "CKPT_FILE_TMPL" in vars(owner), owner.CKPT_FILE_TMPL
        # Ray joins the name to the staging folder: "../" puts it in the folder above.
        owner.CKPT_FILE_TMPL = "../" + _TEMPORARY + template
        try:
            original(self)
        finally:
            if own:
                owner.CKPT_FILE_TMPL = template
            else:
                del owner.CKPT_FILE_TMPL
        os.replace(folder.parent / (_TEMPORARY + final.name), final)

    save_to_dir._basin_atomic = True  # type: ignore[attr-defined]
    save_to_dir._ray_original = original  # type: ignore[attr-defined]
    TuneController.save_to_dir = save_to_dir  # type: ignore[method-assign]


def copy_into_run_directory_atomically() -> None:
    """Wrap the syncer's upload command (once per process): to a local path, file by file
    through a temporary name; anywhere else, Ray's own upload."""
    original = _FilesystemSyncer._sync_up_command
    if getattr(original, "_basin_atomic", False):
        return

    def _sync_up_command(self: _FilesystemSyncer, local_path: str, uri: str,
                         exclude: list | None = None) -> tuple[Callable, dict[str, Any]]:
        command, arguments = original(self, local_path, uri, exclude)
        if command is _upload_to_fs_path and not exclude \
                and isinstance(self.storage_filesystem, pyarrow.fs.LocalFileSystem):
            return copy_whole_files, {"source": local_path, "destination": uri}
        return command, arguments

    _sync_up_command._basin_atomic = True  # type: ignore[attr-defined]
    _sync_up_command._ray_original = original  # type: ignore[attr-defined]
    _FilesystemSyncer._sync_up_command = _sync_up_command  # type: ignore[method-assign]


def copy_whole_files(source: str, destination: str) -> None:
    """Copy a file, or a folder's files, so that each destination file is either its old
    content or its new one, never a part (a temporary name in the same folder, then
    ``os.replace``)."""
    source_path, destination_path = Path(source), Path(destination)
    pairs = [(source_path, destination_path)] if source_path.is_file() else [
        (file, destination_path / file.relative_to(source_path))
        for file in sorted(source_path.rglob("*")) if file.is_file()]
    for file, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(_TEMPORARY + target.name)
        shutil.copyfile(file, temporary)
        os.replace(temporary, target)
