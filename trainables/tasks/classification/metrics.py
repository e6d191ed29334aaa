"""What a classifier measures on a split: cross-entropy with its standard error, accuracy, how
many classes it predicts, and the loss of the label prior it has to beat."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

import torch
import torch.nn.functional as F

from trainables.evaluation import all_reduce_sum, eval_mode


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
