"""What the rest of basin needs to know of a task without importing torch: its name, the
figures it reports, which of them a user may optimise, the test figures that score what a
sweep hands on, how ``basin validate`` checks its data, and how an exported bundle loads.

Each task's folder declares one (``trainables/tasks/<task>/__init__.py``); the registry in
``trainables/tasks/__init__.py`` lists them, and everything that lists tasks reads it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainables.settings import DataSettings, ModelSettings
    from trainables.tasks.base import Task

# A problem basin validate found: (the sweep file's field, the message).
Problem = tuple[str, str]


def imported(where: str) -> Any:
    """``module:name`` imported."""
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class TaskDeclaration:
    """One task, as ``model.task`` names it.

    ``metrics``: what it adds to every report (beside ``trainables.contract.REPORTED_METRICS``);
    ``objectives``: the reported metrics a user may optimise; ``generated``: metrics measured
    only with ``generation.exact_match_samples``; ``test_metrics``: the test split's figures
    (basin confirm, benchmarks), ``headline`` the one a table shows; ``curves``: the metrics a
    tracker draws as curves; ``implementation`` and ``data_checks``: ``module:name`` of its
    ``Task`` class and of its data check (``(data, model) -> problems``), imported on demand
    (they need torch or tokenizers); ``checks_need_model``: the data check reads the model's
    tokenizer, so it only runs once the model checks passed; ``peft_loader`` and ``pipeline``:
    how a bundle loads (the model card); ``model_class``: the transformers Auto class the task
    builds its model with (``basin validate`` checks that it builds the sweep's architecture and
    finds ``lora_target_modules`` in what it builds), ``model_check``: ``module:name`` of the
    task's own check of a model's config, ``(config: dict) -> str | None``, for what the Auto
    class builds but the task cannot train.
    """

    name: str
    summary: str
    implementation: str
    metrics: tuple[str, ...]
    objectives: tuple[str, ...]
    test_metrics: tuple[str, ...]
    headline: str
    curves: tuple[str, ...]
    data_checks: str
    peft_loader: str
    pipeline: str
    generated: tuple[str, ...] = ()
    checks_need_model: bool = False
    leaderboard: tuple[str, ...] = ()  # the task's own validation figures, in the leaderboard
    model_class: str = "AutoModelForSequenceClassification"
    model_check: str = ""

    def task_class(self) -> type[Task]:
        """The task's implementation (imports torch)."""
        return imported(self.implementation)

    def model_config_check(self) -> Callable[[dict], str | None] | None:
        """The task's own check of a model's config (``model_check``), or None."""
        return imported(self.model_check) if self.model_check else None

    def check_data(self, data: DataSettings, model: ModelSettings) -> list[Problem]:
        """``basin validate``'s problems with the sweep's data for this task."""
        return imported(self.data_checks)(data, model)
