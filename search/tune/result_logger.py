"""Ray Tune's JSON result logger, without the copy that loses a resumed trial's latest reports.

Ray's ``JsonLoggerCallback`` writes each trial's ``result.json`` in the driver's staging folder
(``trial.local_path``, under ``/tmp/ray/session_*``) and syncs that folder to the sweep's storage
(the run directory) now and then. When a trial starts again from a checkpoint (a frozen trial
thawed, a restarted one), it first copies the stored file over the staging one
(``_restore_from_remote``): if the last sync was before the trial's latest report, that report
is lost, and the next sync writes the shortened file back to the run directory. Seen in a
freezing sweep in CI: a thawed trial's ``result.json`` held only its step-8 report, its step-4
one gone, and basin reads that file as the trial's curve. The staging file, when this driver
wrote one, is the fresher copy; the stored one is copied only when there is none (a new driver:
``basin resume``, whose staging folder starts empty).
"""

from __future__ import annotations

from pathlib import Path

from ray.tune.logger import JsonLoggerCallback


class ResultLogger(JsonLoggerCallback):
    """``result.json`` per trial, as Ray writes it, appended to on every restart."""

    def _restore_from_remote(self, file_name: str, trial) -> None:
        if Path(trial.local_path, file_name).is_file():
            return  # this driver wrote it: at least as fresh as the stored copy
        super()._restore_from_remote(file_name, trial)
