"""The tasks a trial can fine-tune for, by the name ``model.task`` gives them, and the one a
process keeps for the trials it runs (a warm worker: ``trainables/warm.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainables.settings import TrialSettings
    from trainables.tasks.base import Task

# The task this process keeps, by the sweep settings it serves (only the latest is kept).
_kept: dict[str, Task] = {}


def task_for(settings: TrialSettings) -> Task:
    """The task of a sweep's settings (imported on demand: each pulls in its own libraries)."""
    if settings.model.task == "causal-lm":
        from trainables.tasks.causal_lm.task import CausalLM

        return CausalLM(settings)
    from trainables.tasks.classification.task import SequenceClassification

    return SequenceClassification(settings)


def kept_task(settings: TrialSettings) -> Task:
    """The sweep's task (tokenizer and tokenized splits loaded on first use), kept per process
    for the trials that share these settings; only the latest settings are kept."""
    key = settings.model_dump_json()
    if key not in _kept:
        _kept.clear()  # another sweep's (or confirm's) data is not coming back
        _kept[key] = task_for(settings)
    return _kept[key]
