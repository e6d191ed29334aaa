"""What a task brings to the fine-tuning recipe (``trainables/recipe/loop.py``), which knows no
task.

A task builds its model with LoRA, reads and tokenizes its data, measures its evaluations,
probes a checkpoint (a few figures an export must reproduce) and loads an exported bundle.
Adding a task is one file with a ``Task`` subclass, registered in ``trainables/tasks/__init__.py``,
plus its metric names in ``trainables/contract.py`` and its settings in
``trainables/settings.py``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable

import torch
from torch.utils.data import DataLoader

from trainables.evaluation import generators_untouched
from trainables.settings import Hyperparameters, TrialSettings


def fixed_sample(examples: list[Any], size: int, seed: int) -> list[Any]:
    """``size`` examples drawn with ``seed`` (all of them when there are not more): the same
    sample for every trial, or every candidate of a check, that asks with the same seed."""
    if size >= len(examples):
        return list(examples)
    return random.Random(seed).sample(examples, size)


@dataclass
class TaskData:
    """One trial's data as the recipe sees it: examples per split, in the task's own form.

    ``facts`` are figures about the data that every report carries (e.g. how many examples
    ``max_length`` cut); ``extra`` is what the task keeps for itself (e.g. label names).
    """

    train: list[Any]
    validation: list[Any]
    test: list[Any]
    facts: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class Task(ABC):
    """One kind of fine-tuning for one sweep's settings: sequence classification, causal LM."""

    name: ClassVar[str]

    def __init__(self, settings: TrialSettings):
        self.settings = settings
        self._baseline: float | None = None
        self._general: dict[tuple, Any] = {}

    @cached_property
    def tokenizer(self) -> Any:
        """The pretrained model's tokenizer (tiny random models borrow a real one)."""
        return self.load_tokenizer()

    @cached_property
    def data(self) -> TaskData:
        """Every split, read once, the same on every worker."""
        return self.load_data()

    @abstractmethod
    def load_tokenizer(self) -> Any:
        """Load the tokenizer (``self.tokenizer`` keeps it)."""

    @abstractmethod
    def load_data(self) -> TaskData:
        """Read every split (``self.data`` keeps them)."""

    # peft's task type: which head LoRA leaves trainable and which class wraps the model.
    peft_task_type: ClassVar[str]

    @abstractmethod
    def load_base_model(self, hp: Hyperparameters) -> Any:
        """The pretrained base model as the task uses it (a classifier gets a fresh head)."""

    def build_model(self, hp: Hyperparameters) -> Any:
        """The pretrained base, frozen, with the trial's LoRA adapters (a peft model)."""
        from trainables.models.lora import apply_lora

        return apply_lora(self.load_base_model(hp), self.settings.model, hp,
                          self.peft_task_type)

    @abstractmethod
    def make_loader(self, examples: list[Any], batch_size: int, rank: int, world_size: int,
                    shuffle: bool, seed: int) -> DataLoader:
        """Batches of this worker's shard: dicts of tensors the model takes, with ``labels``."""

    def train_sample(self, size: int, seed: int) -> list[Any]:
        """The fixed training sample whose eval-mode loss is the gap's training side; it
        depends on the data seed only, so every trial of a sweep measures the same examples."""
        return fixed_sample(self.data.train, size, seed)

    @abstractmethod
    def evaluate(self, model: Any, examples: list[Any], loader: DataLoader,
                 device: torch.device) -> dict[str, float]:
        """``loss`` (the mean the objective and the gap use), its standard error ``loss_se``
        and the task's own figures (reported as ``<split>_<name>``) over every worker's shard
        of ``examples`` (all-reduced), in eval mode."""

    def evaluate_test(self, model: Any, loader: DataLoader, device: torch.device
                      ) -> dict[str, float]:
        """``evaluate`` on the test split, whose figures score what a sweep hands on (a task
        may measure more of it than of the splits it evaluates at every step)."""
        return self.evaluate(model, self.data.test, loader, device)

    @abstractmethod
    def baseline_loss(self, model: Any, validation: DataLoader, device: torch.device) -> float:
        """The validation loss of a model that learned nothing; ``model`` is the trial's model
        before its first step."""

    def warm_baseline_loss(self, model: Any, validation: DataLoader,
                           device: torch.device) -> float:
        """``baseline_loss``, measured by the first trial this task serves and kept: it is the
        same for every trial of a sweep (LoRA starts as the identity and evaluation runs
        without dropout; a classifier's is the label prior), and a causal LM's costs a pass
        over the validation split. A warm worker's later trials (trainables/warm.py) skip it.

        It is measured without touching the trial's random generators (a loader's iterator
        draws its seed from torch's), so a trial that finds it kept draws the same dropout
        masks as one that measures it."""
        if self._baseline is None:
            with generators_untouched(device):
                self._baseline = self.baseline_loss(model, validation, device)
        return self._baseline

    def loss(self, model: Any, loader: Iterable[dict[str, torch.Tensor]],
             device: torch.device) -> float:
        """The mean loss over ``loader``'s batches in eval mode, nothing else (``basin check``
        measures it many times, on batches collated once)."""
        return self.evaluate(model, [], loader, device)["loss"]

    def warm_general(self, key: tuple, measure: Callable[[], Any]) -> Any:
        """The base model's side of ``retention`` (what ``measure`` returns), measured once
        per ``key`` and kept: it is the same for every evaluation of every trial this process
        runs (a warm worker's included)."""
        if key not in self._general:
            self._general[key] = measure()
        return self._general[key]

    @abstractmethod
    def retention(self, model: Any, samples: int, device: torch.device) -> dict[str, float]:
        """How far ``model`` (a peft model, or a DeepSpeed engine around one) moved from its
        base model on ``samples`` items of the general sample that ships with basin
        (``trainables/tasks/retention.py``): ``drift`` (0: not at all) and any figures of the
        task's own, under their reported names; in eval mode."""

    @abstractmethod
    def probe(self, model: Any, device: torch.device) -> dict:
        """A few figures of the model on fixed inputs, saved with each checkpoint so that an
        exported bundle can prove it computes what the trial's model did at that step."""

    @abstractmethod
    def probe_difference(self, model: Any, probe: dict) -> float:
        """The largest difference between ``model``'s figures and a saved probe's."""

    @abstractmethod
    def load_exported(self, base_model: str, bundle: str, probe: dict) -> Any:
        """Base model + a bundle's adapter, in eval mode, with plain transformers and peft."""

    def save_loadable_base(self, base_model: str, folder: Path, probe: dict) -> bool:
        """Write into ``folder`` a copy of the base that the bundle's adapter loads onto with
        no weight reported missing, where the base as trained from lacks some (a classifier's
        head); ``False`` (nothing written) where it loads whole as it is."""
        return False
