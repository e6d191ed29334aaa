"""Keeps an object-store run directory up to date while its sweep runs.

Ray uploads the trials' folders and checkpoints itself; this Tune callback uploads what the
driver writes (the sweep, the stop ledger, W&B's offline runs, and later the results), so a
user reading the bucket from a laptop, or a driver resuming on another machine, finds them.
"""

from __future__ import annotations

import time

from ray.tune import Callback

from search.core.console import make_console
from search.store.object_store import LocationError
from search.store.rundir import RunDir

PUSH_EVERY_S = 30.0


class RunDirUploader(Callback):
    """Push the driver's files as trials end, and every ``PUSH_EVERY_S`` seconds between."""

    def __init__(self, run: RunDir, every_s: float = PUSH_EVERY_S):
        self.run = run
        self.every_s = every_s
        self._last_push = 0.0

    def _push(self) -> None:
        # A failed upload must not end the sweep: the files stay on this disk, and the next
        # push (or the one after the sweep, which does raise) sends them.
        self._last_push = time.monotonic()
        try:
            self.run.push()
        except LocationError as error:
            make_console().print(f"[yellow]upload to {self.run.shown} failed, will retry: "
                                 f"{error}[/yellow]")

    def on_step_end(self, iteration, trials, **info) -> None:
        if time.monotonic() - self._last_push >= self.every_s:
            self._push()

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._push()

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._push()

    def on_experiment_end(self, trials, **info) -> None:
        self._push()
