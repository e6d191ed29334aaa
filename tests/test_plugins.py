"""The same checks over every registered plug-in of each kind (as Optuna's tests parametrize
over every sampler): a new stopping rule, selection criterion, tracker or task that registers
itself is held to them without a test of its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from search.core.evaluation import Evaluation
from search.core.outcome import FINISHED, KINDS, Outcome
from search.selection import CRITERIA, Selection
from search.selection.candidates import Candidate
from search.stopping import StoppingSpec, rule_types
from search.trackers import TRACKER_NAMES, TrackingSpec
from search.trackers.base import Tracker, TrackerContext
from trainables.contract import REPORTED_METRICS
from trainables.settings import DataSettings, ModelSettings
from trainables.tasks import (
    TASKS,
    declared,
    installed_tasks,
    objective_metric,
    objectives_of,
)

RULES = rule_types()
# The example of a task from outside basin (examples/text_regression), named by its import path
# as a user's package is where it imports.
sys.path.append(str(Path(__file__).resolve().parents[1] / "examples" / "text_regression"))
EXAMPLE_TASK = "basin_text_regression:TASK"
# Every task this environment has: built in, offered by installed packages (basin.tasks), and
# the example.
TASK_NAMES = [*TASKS, *installed_tasks(), EXAMPLE_TASK]


def _history(val_losses: list[float], train_losses: list[float]) -> list[Evaluation]:
    return [Evaluation(step=15 * (i + 1), val_loss=v, train_eval_loss=t, objective=v, score=v,
                       baseline_loss=0.7, total_steps=120)
            for i, (v, t) in enumerate(zip(val_losses, train_losses))]


# --- stopping rules --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(RULES))
def test_rule_is_a_self_validating_settings_block(name: str) -> None:
    rule = RULES[name]
    assert rule.kind and rule.kind not in KINDS, "a rule names its own kind"
    assert isinstance(rule.marker, str) and rule.marker
    rule()  # every field has a default
    with pytest.raises(ValidationError, match="no_such_field"):
        rule(no_such_field=1)
    assert StoppingSpec.model_validate({name: {"enabled": False}}).rules() == [
        r for r in StoppingSpec().rules() if not isinstance(r, rule)]
    assert StoppingSpec.off().rules() == [] and getattr(StoppingSpec.off(), name) is None


@pytest.mark.parametrize("name", list(RULES))
def test_rule_decides_nothing_without_evidence_or_when_off(name: str) -> None:
    rule = RULES[name]
    assert rule().decide([]) is None
    overfitting = _history([0.6, 0.5, 0.55, 0.62, 0.7, 0.72, 0.75, 0.8],
                           [0.6, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15])
    assert rule(enabled=False).decide(overfitting) is None


@pytest.mark.parametrize("name", list(RULES))
def test_rule_decision_is_an_outcome_of_its_own_kind(name: str) -> None:
    """Each rule stops some curve; its decision carries its kind, status and the step."""
    rule = RULES[name]
    curves = [
        ([0.6, 0.5, 0.55, 0.62, 0.7, 0.72, 0.75, 0.8], [0.6, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2,
                                                         0.15]),  # overfits
        ([0.7] * 8, [0.7] * 8),  # learns nothing
    ]
    decisions = [rule().decide(_history(*curve)) for curve in curves]
    decided = [d for d in decisions if d is not None]
    assert decided, f"{name} stopped neither curve"
    for decision in decided:
        assert isinstance(decision, Outcome)
        assert decision.kind == rule.kind and decision.status in FINISHED
        assert decision.step == 120 and decision.reason


# --- selection criteria ----------------------------------------------------------------------

def _candidates() -> list[Candidate]:
    figures = [(0.50, 0.02, 0.30), (0.52, 0.02, 0.10), (0.60, 0.03, 0.05), (0.49, 0.02, 0.40)]
    return [Candidate(f"t{i}", 15 * (i + 1), {"learning_rate": 1e-3}, val, val, val, se,
                      val - gap, gap, f"/c{i}", "completed")
            for i, (val, se, gap) in enumerate(figures)]


@pytest.mark.parametrize("criterion", CRITERIA)
def test_criterion_ranks_every_candidate_and_says_why(criterion: str) -> None:
    from pydantic import TypeAdapter

    settings = {"criterion": criterion, **({"max_gap": 0.35} if criterion == "max-gap" else {})}
    chosen_by = TypeAdapter(Selection).validate_python(settings)
    candidates = _candidates()
    ranked = chosen_by.rank(candidates)
    assert sorted(c.name for c in ranked) == sorted(c.name for c in candidates)
    assert isinstance(chosen_by.why(ranked[0], candidates, "val_loss"), str)
    assert chosen_by.rank([]) == []
    with pytest.raises(ValidationError):
        TypeAdapter(Selection).validate_python({**settings, "no_such_field": 1})


# --- trackers --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TRACKER_NAMES)
def test_tracker_settings_build_a_tracker(name: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    settings = TrackingSpec().all()[name]
    assert isinstance(settings.enabled, bool)
    context = TrackerContext(run_path=tmp_path, group="g", fixed_config={}, objective="val_loss")
    tracker = type(settings).model_validate(
        {**settings.model_dump(), **({"mode": "offline"} if "mode" in settings.model_fields
                                     else {})}).build(context)
    assert isinstance(tracker, Tracker)
    tracker.close()


@pytest.mark.parametrize("name", TRACKER_NAMES)
def test_enabled_false_in_the_sweep_file_switches_the_tracker_off(name: str) -> None:
    from search.spec.overrides import switch_off_disabled_blocks

    raw = switch_off_disabled_blocks({"tracking": {name: {"enabled": False}}})
    assert TrackingSpec.model_validate(raw["tracking"]).all()[name].enabled is False
    kept_on = switch_off_disabled_blocks({"tracking": {name: {"enabled": True}}})
    assert TrackingSpec.model_validate(kept_on["tracking"]).all()[name].enabled is True


# --- tasks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TASK_NAMES)
def test_task_declaration_is_consistent(name: str) -> None:
    task = declared(name)
    reported = set(REPORTED_METRICS) | set(task.metrics)
    assert set(task.objectives) <= reported, "every objective is reported"
    assert set(task.generated) <= reported | set(task.test_metrics)
    assert set(task.curves) <= reported
    assert task.headline in task.test_metrics and "test_loss" in task.test_metrics
    # The sweep file's checks take every objective it declares.
    assert all(objectives_of(task, objective_metric(m)) == m for m in task.objectives)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_task_implementation_and_checks_load(name: str) -> None:
    import peft

    from trainables.tasks.base import Task

    task = declared(name)
    implementation = task.task_class()
    assert issubclass(implementation, Task) and implementation.name == task.name
    if ":" not in name:  # a task offered by name is offered by its own
        assert task.name == name
    assert hasattr(peft, task.peft_loader)
    # What the model check builds: an Auto class of transformers, and the task's own check.
    import transformers

    assert task.model_class.startswith("AutoModelFor") and hasattr(transformers, task.model_class)
    assert task.model_check == "" or callable(task.model_config_check())
    # The demo data needs no file: no problem to report (a causal LM's check reads the model's
    # tokenizer, the built-in SmolLM2's).
    model = ModelSettings(task=name, **({"name": "builtin:smollm2-135m-instruct"}
                                        if task.checks_need_model else {}))
    assert task.check_data(DataSettings(), model) == []


def test_an_unknown_task_is_refused_with_the_known_ones() -> None:
    from search.core.errors import SpecError
    from search.spec.model import validate_spec

    raw = {"name": "x", "model": {"task": "translation"},
           "space": {"learning_rate": 1e-3}, "tracking": {"wandb": {"mode": "disabled"}}}
    with pytest.raises(SpecError, match=r"unknown task .*'sequence-classification'.*"
                                        r"\(got 'translation'\)"):
        validate_spec(raw, "x.yaml")


def test_registries_are_what_consumers_list() -> None:
    """What lists plug-ins reads the registries: the plots' markers, W&B's names, the check's
    flags."""
    from search.report.plots.sweep import KIND_MARKERS
    from search.trackers.wandb_runs import eval_metrics
    from trainables.check.settings import FLAGS, CheckSettings

    assert {rule.kind for rule in RULES.values()} <= set(KIND_MARKERS)
    assert all(set(declared(name).curves) <= set(eval_metrics(name)) for name in TASK_NAMES)
    assert set(FLAGS) == set(CheckSettings.model_fields)
