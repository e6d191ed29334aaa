"""Score a saved checkpoint on one split of the trial's data, without DeepSpeed.

The model is rebuilt the way the trial built it (the same base, the trial's seed for anything
drawn at random) and the checkpoint's adapter (and a classifier's head) is loaded onto it: the
weights scored are exactly those the checkpoint holds, the ones an export ships. Benchmarks use it
to score a chosen checkpoint on a test split that no search saw; ``basin check`` measures the
same model (``trainables/check/candidate.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainables.recipe.setup import seed_everything
from trainables.settings import Hyperparameters, TrialSettings
from trainables.tasks import warm_task

SPLITS = ("train", "validation", "test")


def checkpoint_model(hp: Hyperparameters, settings: TrialSettings, folder: str | Path,
                     device: torch.device | None = None) -> tuple[Any, Any]:
    """(the task, the checkpoint's model in eval mode): the base rebuilt as the trial built it
    with the checkpoint's adapter (and head) loaded onto it. The task (tokenizer, splits) and
    the base weights are read once per process and kept for the next checkpoint."""
    from peft import PeftModel

    seed_everything(hp.seed if hp.seed is not None else settings.training.seed)
    task = warm_task(settings)
    base = task.load_base_model(hp)
    model = PeftModel.from_pretrained(base, str(folder)).eval()
    return task, model.to(device or torch.device("cpu"))


def score_checkpoint(hp: Hyperparameters, settings: TrialSettings, folder: str | Path,
                     split: str = "test") -> dict:
    """The task's figures (loss, its standard error, accuracy or perplexity...) of the
    checkpoint in ``folder`` on ``split`` (train, validation or test)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
    task, model = checkpoint_model(hp, settings, folder)
    examples = getattr(task.data, split)
    if not examples:
        raise ValueError(f"the data has no {split} split")
    loader = task.make_loader(examples, settings.training.micro_batch_size * 2, rank=0,
                              world_size=1, shuffle=False, seed=0)
    return task.evaluate(model, examples, loader, torch.device("cpu"))
