"""The tasks a trial can fine-tune for, by the name ``model.task`` gives them, and the one a
process keeps for the trials it runs (a warm worker: ``trainables/warm.py``).

``model.task`` names a built-in task (``TASKS``: a folder here, its ``Task`` in ``task.py`` and
its ``TaskDeclaration`` in its ``__init__.py``), a task an installed package declares as an
entry point of the ``basin.tasks`` group, or a ``TaskDeclaration`` by its import path,
``package.module:NAME``. Whatever reads a sweep's task asks ``declared``. This module and the
declarations import no torch.
"""

from __future__ import annotations

import functools
import re
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from trainables.tasks.causal_lm import TASK as CAUSAL_LM
from trainables.tasks.classification import TASK as CLASSIFICATION
from trainables.tasks.declaration import TaskDeclaration, imported

if TYPE_CHECKING:
    from trainables.settings import TrialSettings
    from trainables.tasks.base import Task

TASKS: dict[str, TaskDeclaration] = {task.name: task for task in (CLASSIFICATION, CAUSAL_LM)}
# Every metric a built-in task lets a user optimise: a trial record keeps them (a sweep's own
# objective beside them, whatever its task).
OBJECTIVE_METRICS: tuple[str, ...] = tuple(dict.fromkeys(
    name for task in TASKS.values() for name in task.objectives))

# The warm task: the one this process keeps, by the sweep settings it serves (the latest only).
_warm: dict[str, Task] = {}


def objective_metric(metric: str) -> str:
    """``metric`` if it can be a reported figure's name, else ValueError. Which figures a
    sweep's trials report is its task's to say (``objectives_of``): a task from outside basin
    may report its own."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", metric):
        raise ValueError(f"a reported figure's name, e.g. val_loss (got {metric!r})")
    return metric


def objectives_of(task: TaskDeclaration, metric: str) -> str:
    """``metric`` if ``task`` reports it as a figure a user may optimise, else ValueError
    naming the task and its choices."""
    if metric not in task.objectives:
        raise ValueError(f"task {task.name!r} reports no {metric!r} "
                         f"(choose from {list(task.objectives)})")
    return metric


# The entry point group through which an installed package offers its tasks to basin.
ENTRY_POINT_GROUP = "basin.tasks"


def installed_tasks() -> dict[str, str]:
    """The tasks installed packages declare (``[project.entry-points."basin.tasks"]``): each
    one's name and the ``module:NAME`` of its declaration."""
    return {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}


def declared(name: str) -> TaskDeclaration:
    """The declaration of the task ``model.task`` names: a built-in task, an installed one
    (``installed_tasks``) or ``module:NAME``. ValueError, in one line, for a name that is
    none of them, a path that does not import, or something that is not a declaration."""
    if name in TASKS:
        return TASKS[name]
    return _declared_elsewhere(name)


@functools.cache
def _declared_elsewhere(name: str) -> TaskDeclaration:
    where = installed_tasks().get(name, name)
    if ":" not in where:
        raise ValueError(f"unknown task (choose from {[*TASKS, *installed_tasks()]}, or give "
                         f"a task's declaration as module:NAME) (got {name!r})")
    try:
        declaration = imported(where)
    except ImportError as error:
        raise ValueError(f"the task does not import: {error}; is its package installed where "
                         f"basin runs? (got {name!r})") from None
    except AttributeError:
        module, _, attribute = where.partition(":")
        raise ValueError(f"module {module!r} has no {attribute!r} (got {name!r})") from None
    if not isinstance(declaration, TaskDeclaration):
        raise ValueError(f"a {type(declaration).__name__}, not a TaskDeclaration "
                         f"(trainables.tasks.declaration) (got {name!r})")
    return declaration


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
