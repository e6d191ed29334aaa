"""Score a saved checkpoint on one split of the trial's data, without DeepSpeed.

The model is rebuilt the way the trial built it (the same base, the trial's seed for anything
drawn at random) and the checkpoint's adapter (and a classifier's head) is loaded onto it: the
weights scored are exactly those the checkpoint holds, the ones an export ships. Benchmarks use it
to score a chosen checkpoint on a test split that no search saw.
"""

from __future__ import annotations

from pathlib import Path

import torch

from trainables.loop import seed_everything
from trainables.settings import Hyperparameters, TrialSettings
from trainables.tasks import task_for

SPLITS = ("train", "validation", "test")


def score_checkpoint(hp: Hyperparameters, settings: TrialSettings, folder: str | Path,
                     split: str = "test") -> dict:
    """The task's figures (loss, its standard error, accuracy or perplexity...) of the
    checkpoint in ``folder`` on ``split`` (train, validation or test)."""
    from peft import PeftModel

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
    seed_everything(hp.seed if hp.seed is not None else settings.training.seed)
    task = task_for(settings)
    examples = getattr(task.data, split)
    if not examples:
        raise ValueError(f"the data has no {split} split")
    base = task.load_base_model(hp)
    model = PeftModel.from_pretrained(base, str(folder)).eval()
    loader = task.make_loader(examples, settings.training.micro_batch_size * 2, rank=0,
                              world_size=1, shuffle=False, seed=0)
    return task.evaluate(model, examples, loader, torch.device("cpu"))
