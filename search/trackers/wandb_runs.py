"""What basin's W&B tracker (``wandb.py``) needs of W&B itself: the metric names it logs, stable
run ids, the mode it can run in (online needs an API key), a W&B service of the driver's own,
and the command that uploads offline runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

from search.core.layout import WANDB_FOLDER
from trainables.contract import (
    DRIFT,
    EPOCH,
    GAP,
    LEARNING_RATE,
    SAMPLES_PER_SECOND,
    STARTUP_SECONDS,
    TOKENS_PER_SECOND,
    TRAIN_EVAL_LOSS,
    VAL_LOSS,
    VAL_LOSS_SE,
)
from trainables.tasks import declared


def eval_name(metric: str) -> str:
    """A task's evaluation figure under its W&B name: ``val_accuracy`` -> ``eval/val_accuracy``,
    ``train_eval_accuracy`` -> ``eval/train_accuracy``."""
    return "eval/" + metric.replace("train_eval_", "train_", 1)


# Logged at every evaluation of every task, under the name shown in W&B (eval_metrics adds the
# task's own figures).
EVAL_METRICS = {
    **{metric: eval_name(metric)
       for metric in (TRAIN_EVAL_LOSS, VAL_LOSS, VAL_LOSS_SE, GAP, DRIFT)},
    LEARNING_RATE: "train/learning_rate",
    SAMPLES_PER_SECOND: "perf/samples_per_second",
    TOKENS_PER_SECOND: "perf/tokens_per_second",
    STARTUP_SECONDS: "perf/startup_seconds",
    EPOCH: "train/epoch",
}


def eval_metrics(task: str | None) -> dict[str, str]:
    """What a trial of ``task`` (model.task; None: no task's own figures) logs at every
    evaluation, by the name W&B shows: ``EVAL_METRICS`` and the task's curves."""
    curves = declared(task).curves if task else ()
    return {**EVAL_METRICS, **{metric: eval_name(metric) for metric in curves}}


def write_through_own_service() -> None:
    """Make this driver start a wandb-core service of its own instead of joining its parent's.

    W&B puts the address of the service it starts in ``WANDB_SERVICE``, so a ``basin run``
    launched by a Python process that used W&B (a notebook, a script, a test) inherits it and
    writes its runs through the parent's service. When such a driver is killed, its unfinished
    runs stay open there, and a ``basin resume`` from that parent then finds every restarted
    trial's run id "in use". The token names the process that started the service; an inherited
    one is dropped (a service of our own ends with this process).
    """
    token = os.environ.get("WANDB_SERVICE", "")
    parts = token.split("-")
    if token and not (len(parts) > 1 and parts[1] == str(os.getpid())):
        os.environ.pop("WANDB_SERVICE")


def run_id(group: str, suffix: str) -> str:
    """A stable W&B run id, so a resumed sweep continues the same runs instead of adding."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{group}-{suffix}")[-64:]


def resolve_mode(requested: str) -> tuple[str, str | None]:
    """(mode to use, notice for the user). Online without an API key falls back to offline."""
    if requested != "online":
        return requested, None
    import wandb

    if os.environ.get("WANDB_API_KEY") or wandb.api.api_key:
        return "online", None
    return "offline", "no W&B API key (run `wandb login` or set WANDB_API_KEY)"


def sync_command(run_dir: Path) -> str:
    return f"wandb sync {run_dir / WANDB_FOLDER}/offline-run-*"
