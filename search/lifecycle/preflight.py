"""Checks of a valid sweep file against the world, before Ray or any trial starts.

``search/spec/model.py`` checks the file itself; this module checks what it points at: the data
files' contents, the model, the output folder, and this machine's cores. ``basin validate`` and the
start of ``basin run`` call ``preflight``; each problem is one line naming the file, the field
and the value. All of it is cheap (no weights loaded, nothing downloaded, nothing left behind).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from search.core.errors import SpecError
from search.core.uris import is_object_store
from search.spec.model import SweepSpec
from trainables.models.validation import TaskModel, check_model
from trainables.tasks import declared

# Below a run directory: <trial>/candidates/step_N/<file>, and Ray's own trial folder names.
_DEEPEST_BELOW_RUN = 300


def preflight(spec: SweepSpec, source: str, address: str | None = None) -> None:
    """Raise ``SpecError`` with every problem the sweep would meet only once trials run.

    ``address`` (or ``RAY_ADDRESS``) names a cluster: its resources are checked when Ray
    connects, not against this machine.
    """
    task = declared(spec.model.task)
    problems = check_model(spec.model, TaskModel(task.model_class, task.model_config_check()))
    # A task whose data meets the model's tokenizer (causal LM) checks it only once the model
    # loads.
    if not (task.checks_need_model and problems):
        problems += task.check_data(spec.data, spec.model)
    problem = output_dir_problem(spec.output_dir, spec.name)
    if problem:
        problems.append(("output_dir", problem))
    on_this_machine = not (address or os.environ.get("RAY_ADDRESS"))
    if on_this_machine and not spec.resources.cluster_autoscales:
        problems += resource_problems(spec, machine_cores())
    if problems:
        raise SpecError([f"{source}: {field}: {message}" for field, message in problems])


def output_dir_problem(output_dir: str, name: str) -> str | None:
    """Why run directories cannot be made in a local ``output_dir``, or None.

    The probe makes and removes a temporary folder where the first missing part of the path
    would be created, so nothing is left behind.
    """
    if is_object_store(output_dir):
        return None  # reached by search.lifecycle.start.check_stores
    path = Path(output_dir).expanduser().absolute()
    longest = len(str(path)) + len(name) + _DEEPEST_BELOW_RUN
    limit = os.pathconf("/", "PC_PATH_MAX")
    if longest > limit:
        return (f"too long: files of a run would have paths of ~{longest} characters, over this "
                f"system's {limit} (got {len(output_dir)} characters)")
    try:
        return _folder_problem(path, output_dir)
    except OSError as error:  # e.g. a part of the path longer than the filesystem allows
        return f"cannot be made: {error.strerror or error} (got {output_dir!r:.120})"


def _folder_problem(path: Path, output_dir: str) -> str | None:
    if path.exists() and not path.is_dir():
        return f"is a file, not a folder (got {output_dir!r})"
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    if not existing.is_dir():
        return f"{existing} is a file, so no folder can be made under it (got {output_dir!r})"
    try:
        with tempfile.TemporaryDirectory(dir=existing, prefix=".basin-probe-"):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror or error}) (got {output_dir!r})"
    return None


def machine_cores() -> float:
    """The CPU cores this process may use: its affinity, capped by a cgroup quota."""
    cores = float(len(os.sched_getaffinity(0)))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    return cores


def resource_problems(spec: SweepSpec, cores: float) -> list[tuple[str, str]]:
    """What a trial asks of this machine that it does not have (Ray would wait forever)."""
    resources = spec.resources
    hint = "; run on a cluster with --address, or lower it"
    if resources.cpus_per_worker > cores:
        return [("resources.cpus_per_worker", f"this machine has {cores:g} CPU cores, fewer "
                 f"than one worker asks for (got {resources.cpus_per_worker:g}){hint}")]
    needed = resources.workers * resources.cpus_per_worker
    if needed > cores + 1e-9:
        return [("resources.workers", f"a trial needs {resources.workers} workers x "
                 f"{resources.cpus_per_worker:g} CPUs = {needed:g}, this machine has "
                 f"{cores:g} cores (got {resources.workers}){hint}")]
    threads = spec.training.threads_per_worker
    if threads is not None and threads > math.ceil(cores):
        return [("training.threads_per_worker", f"this machine has {cores:g} CPU cores; more "
                 f"threads than cores only slow a worker down (got {threads})")]
    return []
