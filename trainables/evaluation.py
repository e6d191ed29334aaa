"""What a trial measures at every evaluation.

The names it reports them under live in ``trainables/contract.py`` (no torch), so that
``search/`` can refer to them without importing torch.
"""

from __future__ import annotations

import math
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import torch
import torch.distributed as dist
import torch.nn.functional as F


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a few floats over all workers (a no-op in a one-process group)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Eval mode (no dropout) and no gradients inside; the model's training mode after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        if was_training:
            model.train()


def evaluate(model: Any, batches: Iterable[dict[str, torch.Tensor]], device: torch.device,
             num_labels: int) -> dict:
    """Mean cross-entropy, its standard error, accuracy and the number of distinct predicted
    classes over every worker's shard, in eval mode (no dropout).

    Each worker sums over its shard (losses, squared losses, hits, predictions per class); the
    sums are all-reduced so every worker returns the same numbers, computed over the whole split.
    The standard error is that of a mean of per-example losses: sd / sqrt(n).
    """
    loss_sum, square_sum, correct, count = 0.0, 0.0, 0.0, 0.0
    predicted = torch.zeros(num_labels, dtype=torch.float64)
    with eval_mode(model):
        for batch in batches:
            batch = {key: value.to(device) for key, value in batch.items()}
            labels = batch.pop("labels")
            logits = model(**batch).logits.float()
            losses = F.cross_entropy(logits, labels, reduction="none").double()
            loss_sum += losses.sum().item()
            square_sum += losses.square().sum().item()
            guesses = logits.argmax(dim=-1)
            correct += (guesses == labels).sum().item()
            count += labels.numel()
            predicted += torch.bincount(guesses.cpu(), minlength=num_labels).double()
    totals = all_reduce_sum([loss_sum, square_sum, correct, count, *predicted.tolist()], device)
    loss_sum, square_sum, correct, count = totals[:4]
    if count == 0:
        return {"loss": math.nan, "loss_se": math.nan, "accuracy": math.nan,
                "distinct_predictions": 0}
    mean = loss_sum / count
    variance = max(0.0, square_sum / count - mean * mean) * count / max(1.0, count - 1)
    return {"loss": mean, "loss_se": math.sqrt(variance / count), "accuracy": correct / count,
            "distinct_predictions": sum(1 for n in totals[4:] if n > 0)}


def label_prior_loss(train_labels: Iterable[int], eval_labels: Iterable[int]) -> float:
    """The cross-entropy on ``eval_labels`` of a constant predictor that outputs the training
    labels' frequencies: the loss a model reaches by learning nothing about the text."""
    counts = Counter(train_labels)
    total = sum(counts.values())
    labels = list(eval_labels)
    if not labels or not total:
        return math.nan
    # A class never seen in training gets no probability; the loss of such an example is
    # infinite for the constant predictor, which is what it deserves.
    return -sum(math.log(counts[label] / total) if counts[label] else -math.inf
                for label in labels) / len(labels)


def is_better(value: float, best: float | None, mode: str) -> bool:
    """Whether ``value`` improves on ``best`` for an objective that is minimised or maximised."""
    if best is None:
        return math.isfinite(value)
    return value < best if mode == "min" else value > best


def own_generator(seed: int) -> torch.Generator:
    """A loader's own random generator: a DataLoader draws a seed from it for every pass over
    its data, so starting an epoch or an evaluation never moves the trial's random stream (the
    dropout masks), and a resumed trial's stream can be put back exactly."""
    return torch.Generator().manual_seed(seed)
