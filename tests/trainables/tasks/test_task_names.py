"""What ``model.task`` may name (issue 50): a built-in task, a task an installed package offers
through the ``basin.tasks`` entry point group, or a declaration by its import path; and the one
line each mistake gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.core.errors import SpecError
from search.spec.model import validate_spec
from search.trackers.wandb_runs import EVAL_METRICS, eval_metrics
from trainables.tasks import ENTRY_POINT_GROUP, TASKS, declared, installed_tasks

CLASSIFIER_PATH = "trainables.tasks.classification:TASK"


def installed_package(folder: Path, name: str, value: str) -> None:
    """A distribution on ``sys.path`` whose only content is one task entry point, as
    ``pip install`` of a package declaring it would leave in site-packages."""
    info = folder / f"{name.replace('-', '_')}_tasks-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-tasks\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {value}\n")


def raw_sweep(task: str, **objective: str) -> dict:
    return {"name": "x", "model": {"task": task}, "space": {"learning_rate": 1e-3},
            "tracking": {"wandb": {"mode": "disabled"}},
            **({"objective": objective} if objective else {})}


def test_a_built_in_task_is_named_by_its_name() -> None:
    for name, task in TASKS.items():
        assert declared(name) is task


def test_a_declaration_is_named_by_its_import_path() -> None:
    assert declared(CLASSIFIER_PATH) is TASKS["sequence-classification"]
    spec = validate_spec(raw_sweep(CLASSIFIER_PATH, metric="val_accuracy", mode="max"), "x.yaml")
    assert spec.model.task == CLASSIFIER_PATH  # kept as written: the trials resolve it alike


def test_an_installed_package_offers_a_task_by_its_entry_point(tmp_path, monkeypatch) -> None:
    installed_package(tmp_path, "sentiment-by-entry", "trainables.tasks.causal_lm:TASK")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_tasks()["sentiment-by-entry"] == "trainables.tasks.causal_lm:TASK"
    assert declared("sentiment-by-entry") is TASKS["causal-lm"]
    spec = validate_spec(raw_sweep("sentiment-by-entry"), "x.yaml")
    assert spec.model.task == "sentiment-by-entry"


def test_an_unknown_name_lists_the_built_in_and_installed_tasks(tmp_path, monkeypatch) -> None:
    installed_package(tmp_path, "listed-task", "trainables.tasks.causal_lm:TASK")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError) as refused:
        declared("translation")
    message = str(refused.value)
    assert "'sequence-classification', 'causal-lm', 'listed-task'" in message
    assert "module:NAME" in message and message.endswith("(got 'translation')")


@pytest.mark.parametrize("task, expected", [
    ("no_such_package.tasks:TASK",
     "model.task: the task does not import: No module named 'no_such_package'; is its package "
     "installed where basin runs? (got 'no_such_package.tasks:TASK')"),
    ("trainables.tasks:NO_SUCH_TASK",
     "model.task: module 'trainables.tasks' has no 'NO_SUCH_TASK' "
     "(got 'trainables.tasks:NO_SUCH_TASK')"),
    ("trainables.tasks:declared",
     "model.task: a function, not a TaskDeclaration (trainables.tasks.declaration) "
     "(got 'trainables.tasks:declared')"),
])
def test_a_task_path_that_leads_nowhere_is_one_line_naming_the_field(task, expected) -> None:
    with pytest.raises(SpecError) as refused:
        validate_spec(raw_sweep(task), "x.yaml")
    (problem,) = refused.value.problems
    assert problem == f"x.yaml: {expected}"


def test_a_broken_entry_point_is_refused_like_a_broken_path(tmp_path, monkeypatch) -> None:
    installed_package(tmp_path, "broken-entry", "gone_package.tasks:TASK")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=r"No module named 'gone_package'.*"
                                         r"\(got 'broken-entry'\)$"):
        declared("broken-entry")


def test_w_and_b_logs_the_task_s_own_curves() -> None:
    assert eval_metrics(None) == EVAL_METRICS
    for name, task in TASKS.items():
        logged = eval_metrics(name)
        assert set(task.curves) <= set(logged) and set(EVAL_METRICS) <= set(logged)
    assert eval_metrics(CLASSIFIER_PATH) == eval_metrics("sequence-classification")
