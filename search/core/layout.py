"""A run directory's files and folders, by name: every file the driver writes, and the files
Ray writes into each trial's folder that basin reads. (What a trial writes into its own folder is
named in ``trainables/contract.py``.)"""

from __future__ import annotations

import re

# The driver's files, at the top of the run directory.
SWEEP_FILE = "sweep.yaml"  # the validated sweep, every field explicit; written first
RESULTS_FILE = "results.json"  # every trial and the choice, when the sweep ends
BEST_FILE = "best.yaml"  # the chosen checkpoint's recipe
VERSIONS_FILE = "versions.json"  # the libraries the sweep started with (a recipe records them)
STOPS_FILE = "stops.jsonl"  # the stop ledger: why each rule-stopped trial stopped
FREEZES_FILE = "freezes.jsonl"  # the freeze ledger: rungs, frozen and thawed trials
CONFIRM_FILE = "confirm.json"  # basin confirm's ranking
CHECK_FILE = "check.json"  # basin check's figures
JOURNAL_FILE = "optuna.journal"  # the Optuna study (unless search.storage names a database)
DRIVER_LOG = "driver.log"  # what the libraries print while basin drives the sweep
DRIVER_LOCK = "driver.lock"  # held by the live driver (run or resume); who it is, as JSON
WANDB_FOLDER = "wandb"  # W&B's runs (offline ones stay there until `wandb sync`)
PLOT_SUFFIX = ".png"  # the plots, at the top of the run directory, each <name>.png:
LEARNING_CURVES_PLOT = "learning_curves"
GAP_PLOT = "gap"
OBJECTIVE_VS_PARAMS_PLOT = "objective_vs_params"
PARAM_IMPORTANCES_PLOT = "param_importances"
HISTORY_PLOT = "optimization_history"
PARALLEL_PLOT = "parallel_coordinates"
CHECK_PLOT = "check"
FRONT_PLOT = "front"

# An exported bundle's own files (``basin export``; the adapter's are peft's).
BUNDLE_RECIPE = "config.yaml"  # a sweep file that re-trains the checkpoint
BUNDLE_VERSIONS = "versions.json"
BUNDLE_METRICS = "metrics.json"
BUNDLE_CARD = "README.md"  # the model card
BUNDLE_MERGED = "merged"  # the base with the adapter merged in (--merge)
BUNDLE_BASE = "base"  # --base local, for a base without the adapter's head: one with it

# Ray's files of a trial folder. A trial's folder is named by its id alone (Ray's default name,
# run_trial_<id>_<index>_<params>_<time>, is read too: compatibility with run directories of
# basin 0.1, remove in basin 0.3).
RAY_RESULTS_FILE = "result.json"  # every report, one JSON line each
RAY_PARAMS_FILE = "params.json"  # the trial's hyperparameters
RAY_CHECKPOINT_PREFIX = "checkpoint_"  # Ray's (latest two) checkpoints of a trial
TRIAL_FOLDER = re.compile(r"^(?:run_trial_([0-9a-f]+)_.*|([0-9a-f]{8}))$")


def driver_file(relative: str) -> bool:
    """Whether a path relative to the run directory is one the driver writes."""
    top = relative.split("/", 1)[0]
    return (top in (SWEEP_FILE, RESULTS_FILE, BEST_FILE, STOPS_FILE, FREEZES_FILE, CONFIRM_FILE,
                    CHECK_FILE, WANDB_FOLDER, JOURNAL_FILE)
            or ("/" not in relative and relative.endswith(PLOT_SUFFIX)))
