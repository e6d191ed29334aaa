"""Score a saved checkpoint on one split of the trial's data, without DeepSpeed.

The model is rebuilt the way the trial built it (the same base, the trial's seed for anything
drawn at random) and the checkpoint's adapter and head are loaded onto it: the weights scored
are exactly those the checkpoint holds, the ones an export ships. Benchmarks use it to score a
chosen checkpoint on a test split that no search saw.
"""

from __future__ import annotations

from pathlib import Path

import torch

from trainables.data import load_splits, make_loader
from trainables.loop import seed_everything
from trainables.metrics import evaluate
from trainables.model import load_base_model, load_tokenizer
from trainables.settings import Hyperparameters, TrialSettings

SPLITS = ("train", "validation", "test")


def score_checkpoint(hp: Hyperparameters, settings: TrialSettings, folder: str | Path,
                     split: str = "test") -> dict:
    """Loss, its standard error, accuracy and distinct predictions of the checkpoint in
    ``folder`` on ``split`` (train, validation or test)."""
    from peft import PeftModel

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
    seed_everything(hp.seed if hp.seed is not None else settings.training.seed)
    data = settings.data
    splits = load_splits(data, seed=data.demo.seed)
    examples = getattr(splits, split)
    if not examples:
        raise ValueError(f"the data has no {split} split")
    tokenizer = load_tokenizer(settings.model)
    base = load_base_model(settings.model, len(splits.label_names), hp,
                           pad_token_id=tokenizer.pad_token_id)
    model = PeftModel.from_pretrained(base, str(folder)).eval()
    loader = make_loader(examples, tokenizer, settings.training.micro_batch_size * 2,
                         data.max_length, rank=0, world_size=1, shuffle=False, seed=0)
    return evaluate(model, loader, torch.device("cpu"), len(splits.label_names))
