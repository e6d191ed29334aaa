"""Text regression as basin's recipe asks it of a task (``trainables.tasks.base.Task``): the
model, the data, the loss and figures at each evaluation, the drift from the base, the probe an
export must reproduce and how a bundle loads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from basin_text_regression.data import demo_splits, make_loader
from trainables.evaluation import all_reduce_sum, eval_mode
from trainables.settings import Hyperparameters
from trainables.tasks.base import Task, TaskData
from trainables.tasks.classification.model import load_base_model, load_tokenizer
from trainables.tasks.retention import encoder_drift

PROBE_SIZE = 4


class TextRegression(Task):
    name = "text-regression"
    # A sequence classifier with one output is a regression head: transformers computes the
    # mean squared error for float labels, and LoRA leaves the head trainable.
    peft_task_type = "SEQ_CLS"

    def load_tokenizer(self) -> Any:
        return load_tokenizer(self.settings.model)

    def load_data(self) -> TaskData:
        return TaskData(*demo_splits(self.settings.data))

    def load_base_model(self, hp: Hyperparameters) -> Any:
        return load_base_model(self.settings.model, 1, hp,
                               pad_token_id=self.tokenizer.pad_token_id)

    def make_loader(self, examples, batch_size, rank, world_size, shuffle, seed):
        return make_loader(examples, self.tokenizer, batch_size, self.settings.data.max_length,
                           rank, world_size, shuffle, seed)

    def evaluate(self, model, examples, loader, device) -> dict[str, float]:
        """Mean squared error (``loss``) with its standard error, and mean absolute error,
        summed on each worker's shard and all-reduced."""
        square_sum, fourth_sum, absolute_sum, count = 0.0, 0.0, 0.0, 0.0
        with eval_mode(model):
            for batch in loader:
                batch = {key: value.to(device) for key, value in batch.items()}
                labels = batch.pop("labels")
                errors = (model(**batch).logits.float().squeeze(-1) - labels).double()
                square_sum += errors.square().sum().item()
                fourth_sum += errors.pow(4).sum().item()
                absolute_sum += errors.abs().sum().item()
                count += labels.numel()
        square_sum, fourth_sum, absolute_sum, count = all_reduce_sum(
            [square_sum, fourth_sum, absolute_sum, count], device)
        if count == 0:
            return {"loss": math.nan, "loss_se": math.nan, "mae": math.nan}
        mean = square_sum / count
        variance = max(0.0, fourth_sum / count - mean * mean) * count / max(1.0, count - 1)
        return {"loss": mean, "loss_se": math.sqrt(variance / count),
                "mae": absolute_sum / count}

    def baseline_loss(self, model, validation, device) -> float:
        """What a model that learned nothing scores: the training ratings' mean, predicted for
        every validation text."""
        train = [rating for _, rating in self.data.train]
        guess = sum(train) / len(train)
        return sum((rating - guess) ** 2 for _, rating in self.data.validation) / max(
            1, len(self.data.validation))

    def retention(self, model, samples, device) -> dict[str, float]:
        return encoder_drift(self, model, samples, device)  # basin's, for any encoder

    def probe(self, model, device) -> dict:
        texts = [text for text, _ in self.data.validation[:PROBE_SIZE]]
        return {"texts": texts, "ratings": self._ratings(model, texts, device)}

    def probe_difference(self, model, probe: dict) -> float:
        ratings = torch.tensor(self._ratings(model, probe["texts"], torch.device("cpu")))
        return float((ratings - torch.tensor(probe["ratings"])).abs().max())

    def load_exported(self, base_model: str, bundle: str, probe: dict) -> Any:
        from peft import PeftModel
        from transformers import AutoModelForSequenceClassification

        base = AutoModelForSequenceClassification.from_pretrained(base_model, num_labels=1)
        return PeftModel.from_pretrained(base, bundle).eval()

    def save_loadable_base(self, base_model: str, folder: Path, probe: dict) -> bool:
        """The base with a one-output head, so that the bundle's adapter (which carries the
        trained head) loads onto it with nothing reported missing."""
        from transformers import AutoModelForSequenceClassification

        AutoModelForSequenceClassification.from_pretrained(
            base_model, num_labels=1, problem_type="regression").save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        return True

    def _ratings(self, model: Any, texts: list[str], device: torch.device) -> list[float]:
        encoded = self.tokenizer(texts, truncation=True, max_length=self.settings.data.max_length,
                                 padding=True, return_tensors="pt").to(device)
        with eval_mode(model):
            return model(**encoded).logits.float().squeeze(-1).cpu().tolist()
