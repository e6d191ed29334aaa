"""The tasks a trial can fine-tune for, by the name ``model.task`` gives them."""

from __future__ import annotations

from trainables.settings import TrialSettings
from trainables.tasks.base import Task, TaskData

__all__ = ["Task", "TaskData", "task_for"]


def task_for(settings: TrialSettings) -> Task:
    """The task of a sweep's settings (imported on demand: each pulls in its own libraries)."""
    if settings.model.task == "causal-lm":
        from trainables.tasks.causal_lm.task import CausalLM

        return CausalLM(settings)
    from trainables.tasks.classification.task import SequenceClassification

    return SequenceClassification(settings)
