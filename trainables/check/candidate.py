"""Measure one candidate checkpoint for ``basin check``: how flat its basin is
(``trainables/check/flatness.py``): the validation loss, on a fixed sample of the validation
split, along random directions around the checkpoint's weights. (How far it moved from the base
model, its ``drift``, every trial measures at every evaluation: ``trainables/tasks/retention.py``.)

The model is the checkpoint's adapter on the rebuilt base, as ``trainables/check/scoring.py`` builds
it; nothing is written and the weights are the same before and after.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from trainables.check.flatness import measure_flatness
from trainables.check.scoring import checkpoint_model
from trainables.check.settings import CheckSettings
from trainables.contract import VAL_LOSS
from trainables.settings import Hyperparameters, TrialSettings
from trainables.tasks.base import fixed_sample


def check_device() -> torch.device:
    """A GPU when this process has one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def length_sorted_batches(task: Any, examples: list[Any], batch_size: int) -> list[dict]:
    """The check's loss batches, collated once for its many passes, with the examples in order
    of length so that each batch pads little: a random sample of sentences padded to each
    batch's longest spends most of a forward pass on padding. The loss is a mean over
    examples, so the order changes it by float rounding only."""
    singles = task.make_loader(examples, 1, rank=0, world_size=1, shuffle=False, seed=0)
    lengths = [int(batch["input_ids"].shape[1]) for batch in singles]
    order = sorted(range(len(examples)), key=lengths.__getitem__)
    return list(task.make_loader([examples[index] for index in order], batch_size, rank=0,
                                 world_size=1, shuffle=False, seed=0))


def check_checkpoint(hp: Hyperparameters, settings: TrialSettings, folder: str | Path,
                     check: CheckSettings, device: torch.device | None = None) -> dict:
    """The check's figures of the checkpoint in ``folder``: its loss on the validation sample,
    the mean loss increase at each of ``check.radii``, the basin radius, how many loss
    evaluations it took and how long."""
    started = time.perf_counter()
    device = device or check_device()
    task, model = checkpoint_model(hp, settings, folder, device)
    examples = fixed_sample(task.data.validation, check.examples, check.seed)
    if not examples:
        raise ValueError("the data has no validation split to measure the basin on")
    batches = length_sorted_batches(task, examples, settings.training.micro_batch_size * 2)
    flatness = measure_flatness(
        model, lambda m: task.loss(m, batches, device), check.radii, check.directions,
        check.tolerance, check.max_radius, check.bisection_steps, check.seed)
    return {VAL_LOSS: flatness.loss,
            "increase": {f"{radius:g}": value for radius, value in flatness.increases.items()},
            "basin_radius": flatness.radius,
            "evaluations": flatness.evaluations,
            "seconds": time.perf_counter() - started}
