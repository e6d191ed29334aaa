"""The names a trial reports under and the files its checkpoints hold: plain strings, no torch.

``search/`` reads these to refer to a trial's metrics and checkpoints without importing torch,
DeepSpeed or transformers (``basin validate`` and ``basin best`` stay fast).
"""

from __future__ import annotations

import math

# Reported at every evaluation, whatever the task. `train_eval_loss` is the loss on a fixed
# training sample in eval mode, measured exactly like `val_loss`; `gap` is their difference.
# `train_loss` is the running loss of the optimizer steps since the previous evaluation (under
# dropout), for the curves only. `val_loss_se` is the standard error of `val_loss` over the
# validation examples. `baseline_loss` is the validation loss of a model that learned nothing:
# for classification a constant predictor of the training split's label frequencies, for causal
# LM the base model itself before its first step.
STEP = "step"
TOTAL_STEPS = "total_steps"
EPOCH = "epoch"
TRAIN_LOSS = "train_loss"
TRAIN_EVAL_LOSS = "train_eval_loss"
VAL_LOSS = "val_loss"
VAL_LOSS_SE = "val_loss_se"
BASELINE_LOSS = "baseline_loss"
GAP = "gap"
LEARNING_RATE = "learning_rate"
SAMPLES_PER_SECOND = "samples_per_second"
TOKENS_PER_SECOND = "tokens_per_second"
BEST_OBJECTIVE = "best_objective"
BEST_STEP = "best_step"
IS_FINAL = "is_final"
WORLD_SIZE = "world_size"
STARTUP_SECONDS = "startup_seconds"
REPORTED_METRICS: tuple[str, ...] = (
    STEP, TOTAL_STEPS, EPOCH, TRAIN_LOSS, TRAIN_EVAL_LOSS, VAL_LOSS, VAL_LOSS_SE, BASELINE_LOSS,
    GAP, LEARNING_RATE, SAMPLES_PER_SECOND, TOKENS_PER_SECOND, BEST_OBJECTIVE, BEST_STEP,
    IS_FINAL, WORLD_SIZE, STARTUP_SECONDS,
)
# Also in every report: the hash of the recipe the trial trained (trainables/fingerprint.py), so
# each candidate says what re-trains it.
RECIPE_HASH = "recipe_hash"
# Retention (the sweep file's `retention` block): how far the model moved from its base model on
# general inputs that have nothing to do with the task, 0 when not at all
# (trainables/tasks/retention.py), measured at every evaluation; `drift_seconds` is what
# measuring it took there.
DRIFT = "drift"
DRIFT_SECONDS = "drift_seconds"
# How many different classes a classifier predicts on the validation split (1: it collapsed).
VAL_DISTINCT_PREDICTIONS = "val_distinct_predictions"

# What each task adds to every report, and which metrics a user may optimise, is the task's
# own declaration (trainables/tasks/<task>/__init__.py).

# Also in every report: this worker's running loss at each optimizer step since the previous
# evaluation, as [step, loss] pairs, so trackers can draw the training curve step by step.
TRAIN_LOSS_CURVE = "train_loss_curve"

# A trial that cannot go on ends with one last report naming what happened: OUTCOME is one of
# OUTCOME_DIVERGED (the loss became NaN or infinite) or OUTCOME_FAILED (it raised).
OUTCOME = "outcome"
OUTCOME_REASON = "outcome_reason"
OUTCOME_DIVERGED = "diverged"
OUTCOME_FAILED = "failed"

# The files a trial writes into its own folder: what it printed, and the traceback of an error.
TRIAL_LOG = "trial.log"
ERROR_FILE = "error.txt"

# The files of a checkpoint folder.
TRIAL_METRICS_FILE = "trial_metrics.json"
PROBE_FILE = "probe.json"
PROBE_PRECISION = "precision"  # in probe.json: what the trial computed in (fp32, bf16, fp16)
TRAINER_STATE_FILE = "trainer_state.json"
STATE_DIR = "deepspeed"  # the DeepSpeed state a resumed trial continues from

# Every evaluation's candidate (the exportable part of its checkpoint: the adapter with the head,
# its metrics and probe, not the DeepSpeed state) is kept in the trial's folder under
# candidates/step_<step>; Ray keeps only the trial's latest two full checkpoints, for resume.
CANDIDATES_FOLDER = "candidates"


def candidate_name(step: int) -> str:
    """The folder name of the candidate saved at ``step``."""
    return f"step_{step:08d}"


def finite(value: object) -> float | None:
    """A reported value as a float, or None when it is missing or not a finite number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
