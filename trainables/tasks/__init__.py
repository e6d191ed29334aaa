"""The tasks a trial can fine-tune for, by the name ``model.task`` gives them, and the one a
process keeps for the trials it runs (a warm worker: ``trainables/warm.py``).

A new task is a folder here (its ``Task`` in ``task.py``, its ``TaskDeclaration`` in its
``__init__.py``) and one entry in ``TASKS`` below; everything that lists tasks (the sweep file's
checks, basin validate, basin confirm, W&B, the model card) reads ``TASKS``. This module and the
declarations import no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainables.tasks.causal_lm import TASK as CAUSAL_LM
from trainables.tasks.classification import TASK as CLASSIFICATION
from trainables.tasks.declaration import TaskDeclaration

if TYPE_CHECKING:
    from trainables.settings import TrialSettings
    from trainables.tasks.base import Task

TASKS: dict[str, TaskDeclaration] = {task.name: task for task in (CLASSIFICATION, CAUSAL_LM)}
# Every metric some task lets a user optimise, and every test figure some task reports.
OBJECTIVE_METRICS: tuple[str, ...] = tuple(dict.fromkeys(
    name for task in TASKS.values() for name in task.objectives))
TEST_METRICS: tuple[str, ...] = tuple(dict.fromkeys(
    name for task in TASKS.values() for name in task.test_metrics))

# The warm task: the one this process keeps, by the sweep settings it serves (the latest only).
_warm: dict[str, Task] = {}


def objective_metric(metric: str) -> str:
    """``metric`` if some task reports it as a figure a user may optimise, else ValueError."""
    if metric not in OBJECTIVE_METRICS:
        raise ValueError(f"no trial reports {metric!r} (choose from {list(OBJECTIVE_METRICS)})")
    return metric


def declared(name: str) -> TaskDeclaration:
    """The declaration of the task ``model.task`` names."""
    if name not in TASKS:
        raise ValueError(f"unknown task (choose from {list(TASKS)}) (got {name!r})")
    return TASKS[name]


def task_for(settings: TrialSettings) -> Task:
    """The task of a sweep's settings (imported on demand: each pulls in its own libraries)."""
    return declared(settings.model.task).task_class()(settings)


def warm_task(settings: TrialSettings) -> Task:
    """The sweep's task (tokenizer and tokenized splits loaded on first use), kept per process
    for the trials that share these settings; only the latest settings are kept."""
    key = settings.model_dump_json()
    if key not in _warm:
        _warm.clear()  # another sweep's (or confirm's) data is not coming back
        _warm[key] = task_for(settings)
    return _warm[key]
