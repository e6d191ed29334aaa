"""What a trial measures at every evaluation, and the names it reports them under.

The names are plain strings so that ``search/`` can refer to them without importing torch.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch
import torch.distributed as dist
import torch.nn.functional as F

# Reported at every evaluation. `train_eval_loss` is the loss on a fixed training sample in eval
# mode, measured exactly like `val_loss`; `gap` is their difference. `train_loss` is the running
# loss of the optimizer steps since the previous evaluation (under dropout), for the curves only.
REPORTED_METRICS: tuple[str, ...] = (
    "step",
    "epoch",
    "train_loss",
    "train_eval_loss",
    "train_eval_accuracy",
    "val_loss",
    "val_accuracy",
    "gap",
    "learning_rate",
    "samples_per_second",
    "tokens_per_second",
    "best_objective",
    "best_step",
    "is_final",
    "world_size",
    "startup_seconds",
)

# Also in every report: this worker's running loss at each optimizer step since the previous
# evaluation, as [step, loss] pairs, so trackers can draw the training curve step by step.
TRAIN_LOSS_CURVE = "train_loss_curve"

# Metrics a user may optimise: each is reported at every evaluation with a meaningful direction.
OBJECTIVE_METRICS: tuple[str, ...] = (
    "val_loss",
    "val_accuracy",
    "gap",
    "train_eval_loss",
    "train_eval_accuracy",
)


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a few floats over all workers (a no-op in a one-process group)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


@torch.no_grad()
def evaluate(model: Any, batches: Iterable[dict[str, torch.Tensor]], device: torch.device) -> dict:
    """Mean cross-entropy and accuracy over every worker's shard, in eval mode (no dropout).

    Each worker sums over its shard; the sums are all-reduced so every worker returns the
    same numbers, computed over the whole split.
    """
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0.0, 0.0
    for batch in batches:
        batch = {key: value.to(device) for key, value in batch.items()}
        labels = batch.pop("labels")
        logits = model(**batch).logits.float()
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(dim=-1) == labels).sum().item()
        count += labels.numel()
    loss_sum, correct, count = all_reduce_sum([loss_sum, correct, count], device)
    if was_training:
        model.train()
    if count == 0:
        return {"loss": math.nan, "accuracy": math.nan}
    return {"loss": loss_sum / count, "accuracy": correct / count}


def is_better(value: float, best: float | None, mode: str) -> bool:
    """Whether ``value`` improves on ``best`` for an objective that is minimised or maximised."""
    if best is None:
        return math.isfinite(value)
    return value < best if mode == "min" else value > best
