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
states. Left alone: Ray's copy of the file into the run directory is still written in place
(a kill in that copy's few milliseconds would tear it there).
"""

from __future__ import annotations

import os
from pathlib import Path

from ray.tune.execution.tune_controller import TuneController

_TEMPORARY = "basin-tmp-"


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
