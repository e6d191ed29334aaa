"""A Ray Tune trainable that answers a configuration with its tabulated curve, for a real
``basin run`` over a learning-curve table (``run_trials(..., function=replay_function(...))``).

Each evaluation is reported the way basin's own trainable reports it
(``trainables/trial/entry.py``): the metrics with a checkpoint folder whose candidate is published
to the trial's folder, so the run directory, the study, the stop ledger and the selection are
exactly a real sweep's. Time is the table's, scaled down: a trial sleeps ``time_scale`` times the
seconds each interval took.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

_LOADED: dict[str, Any] = {}


def replay_trial(config: dict[str, Any], settings: dict[str, Any], table: str,
                 time_scale: float) -> None:
    """Report the curve of the tabulated configuration nearest to ``config``."""
    from benchmarks.curve_table import CurveTable
    from trainables.contract import OUTCOME_DIVERGED, TRIAL_METRICS_FILE
    from trainables.trial.candidate_store import store_of_this_trial
    from trainables.trial.entry import report_outcome, report_to_tune

    if table not in _LOADED:
        _LOADED[table] = CurveTable.load(Path(table))
    curves = _LOADED[table]
    index = curves.nearest({k: v for k, v in config.items() if k in curves.names})
    store = store_of_this_trial()
    time.sleep(curves.startup_seconds() * time_scale)
    done = _resumed_at()
    for report, seconds in zip(curves.reports(index), curves.interval_seconds(index)):
        if report["step"] <= done:  # a paused or restarted trial goes on from its checkpoint
            continue
        time.sleep(seconds * time_scale)
        folder = tempfile.mkdtemp(prefix="replay-checkpoint-")
        with open(os.path.join(folder, TRIAL_METRICS_FILE), "w") as handle:
            json.dump(report, handle)
        report_to_tune(store, report, folder)
    if curves.diverged_at(index) is not None:
        report_outcome(OUTCOME_DIVERGED, curves.configs[index]["reason"],
                        settings.get("objective_metric", "val_loss"))


def _resumed_at() -> int:
    """The step of the checkpoint Ray hands a resumed trial (0: a fresh start)."""
    from ray import tune

    from trainables.contract import STEP, TRIAL_METRICS_FILE

    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        with open(os.path.join(folder, TRIAL_METRICS_FILE)) as handle:
            return int(json.load(handle)[STEP])


def replay_function(table: Path, time_scale: float = 0.001) -> Callable[..., None]:
    """The Tune function for ``run_trials``'s ``function``: ``(config, settings)``."""
    return functools.partial(replay_trial, table=str(table), time_scale=time_scale)
