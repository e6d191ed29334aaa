"""Sequence classification: a label per text, scored by cross-entropy and accuracy.

The data, model and metrics live beside it in ``data.py``, ``model.py`` and ``metrics.py``; this
file is what the recipe asks of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainables.evaluation import eval_mode
from trainables.settings import Hyperparameters
from trainables.tasks.base import Task, TaskData
from trainables.tasks.classification.data import load_splits, make_loader
from trainables.tasks.classification.metrics import evaluate, label_prior_loss
from trainables.tasks.classification.model import load_base_model, load_tokenizer
from trainables.tasks.retention import encoder_drift

PROBE_SIZE = 4


class SequenceClassification(Task):
    name = "sequence-classification"
    peft_task_type = "SEQ_CLS"

    def load_tokenizer(self) -> Any:
        return load_tokenizer(self.settings.model)

    def load_data(self) -> TaskData:
        data = self.settings.data
        splits = load_splits(data, seed=data.demo.seed)
        return TaskData(splits.train, splits.validation, splits.test,
                        extra={"label_names": splits.label_names})

    @property
    def num_labels(self) -> int:
        return len(self.data.extra["label_names"])

    def load_base_model(self, hp: Hyperparameters) -> Any:
        return load_base_model(self.settings.model, self.num_labels, hp,
                               pad_token_id=self.tokenizer.pad_token_id)

    def make_loader(self, examples, batch_size, rank, world_size, shuffle, seed):
        return make_loader(examples, self.tokenizer, batch_size, self.settings.data.max_length,
                           rank, world_size, shuffle=shuffle, seed=seed)

    def evaluate(self, model, examples, loader, device) -> dict:
        return evaluate(model, loader, device, self.num_labels)

    def baseline_loss(self, model, validation, device) -> float:
        # What a model that learned nothing about the text scores: the label prior.
        return label_prior_loss([label for _, label in self.data.train],
                                [label for _, label in self.data.validation])

    def retention(self, model, samples, device) -> dict[str, float]:
        return encoder_drift(self, model, samples, device)

    def probe(self, model, device) -> dict:
        texts = [text for text, _ in self.data.validation[:PROBE_SIZE]]
        return {"texts": texts, "label_names": self.data.extra["label_names"],
                "logits": self._logits(model, texts, device)}

    def probe_difference(self, model, probe: dict) -> float:
        logits = torch.tensor(self._logits(model, probe["texts"], torch.device("cpu")))
        return float((logits - torch.tensor(probe["logits"])).abs().max())

    def load_exported(self, base_model: str, bundle: str, probe: dict) -> Any:
        from peft import PeftModel
        from transformers import AutoModelForSequenceClassification

        base = AutoModelForSequenceClassification.from_pretrained(
            base_model, num_labels=len(probe["label_names"]))
        return PeftModel.from_pretrained(base, bundle).eval()

    def save_loadable_base(self, base_model: str, folder: Path, probe: dict) -> bool:
        """The base with a classification head for the data's labels (named, so that a
        pipeline answers with them): the adapter replaces the head's weights with the trained
        ones, and transformers, finding a head in the base, reports none of it missing."""
        from transformers import AutoModelForSequenceClassification

        names = probe["label_names"]
        base = AutoModelForSequenceClassification.from_pretrained(
            base_model, num_labels=len(names), id2label=dict(enumerate(names)),
            label2id={name: index for index, name in enumerate(names)})
        base.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        return True

    def _logits(self, model: Any, texts: list[str], device: torch.device) -> list[list[float]]:
        encoded = self.tokenizer(texts, truncation=True, max_length=self.settings.data.max_length,
                                 padding=True, return_tensors="pt").to(device)
        with eval_mode(model):
            return model(**encoded).logits.float().cpu().tolist()
