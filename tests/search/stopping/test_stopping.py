"""The stopping rules, driven with tables of evaluations and no Ray; the stopper with a real
ledger."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from search.core.evaluation import Evaluation
from search.core.outcome import PRUNED, STOPPED
from search.stopping import EarlyStopping, GapRule, NotLearning, StoppingSpec
from search.store.stop_ledger import StopLedger
from search.tune.stopper import RuleStopper

BASELINE = 0.69


def evals(rows: list[tuple[float, float]], every: int = 10, total: int = 100,
          baseline: float = BASELINE) -> list[Evaluation]:
    """(val_loss, train_loss) per evaluation; the objective is val_loss (minimised)."""
    return [Evaluation(step=(i + 1) * every, val_loss=val, train_eval_loss=train, objective=val,
                       score=val, baseline_loss=baseline, total_steps=total)
            for i, (val, train) in enumerate(rows)]


def first_stop(rule, rows, **kwargs) -> int | None:
    """The step at which the rule first stops a trial fed these evaluations one at a time."""
    history = evals(rows, **kwargs)
    for end in range(1, len(history) + 1):
        if rule.decide(history[:end]) is not None:
            return history[end - 1].step
    return None


# (val_loss, train_loss): learns, then the validation loss turns up while training loss falls.
OVERFITS = [(0.66, 0.65), (0.55, 0.50), (0.50, 0.42), (0.53, 0.35), (0.56, 0.30), (0.60, 0.25)]
# Stays near the constant-prediction baseline, wobbling: never learned, so it cannot overfit.
NEVER_LEARNS = [(0.70, 0.69), (0.71, 0.68), (0.705, 0.675), (0.712, 0.67), (0.709, 0.665)]
# Validation wobbles above its best but the training loss rises too: no overfitting turn.
BOTH_RISE = [(0.60, 0.55), (0.50, 0.45), (0.52, 0.47), (0.53, 0.48), (0.54, 0.49)]
# Overfitting turn interrupted by a new best: the streak starts again.
RECOVERS = [(0.60, 0.55), (0.50, 0.45), (0.52, 0.40), (0.48, 0.38), (0.50, 0.35), (0.51, 0.30)]


@pytest.mark.parametrize(
    "rule, rows, step",
    [
        (GapRule(), OVERFITS, 50),  # turns at 40 and 50: patience 2
        (GapRule(patience=1), OVERFITS, 40),
        (GapRule(patience=3), OVERFITS, 60),
        (GapRule(grace_steps=40), OVERFITS, 60),  # the turn at 40 does not count
        (GapRule(threshold=0.3), OVERFITS, None),  # gaps 0.18 0.26 0.35: two over only from 60
        (GapRule(threshold=0.5, relative=True), OVERFITS, None),  # 0.34 0.46 0.58 of val_loss
        (GapRule(threshold=0.4, relative=True), OVERFITS, 60),
        (GapRule(min_delta=0.04), OVERFITS, 60),  # val 0.53 is not 0.04 above 0.50
        (GapRule(), NEVER_LEARNS, None),
        (GapRule(), BOTH_RISE, None),
        (GapRule(), RECOVERS, 60),  # 30 turns, 40 is a new best, 50 and 60 turn again
    ],
    ids=["patience-2", "patience-1", "patience-3", "grace", "threshold-too-high",
         "relative-too-high", "relative", "min-delta", "never-learned", "train-rises-too",
         "recovers"],
)
def test_gap_rule_stops_on_the_overfitting_turn(rule, rows, step):
    assert first_stop(rule, rows) == step


def test_gap_rule_threshold_gates_each_evaluation():
    # Gaps at 40, 50, 60: 0.18, 0.26, 0.35; with threshold 0.2 the turn counts from 50.
    assert first_stop(GapRule(threshold=0.2, patience=1), OVERFITS) == 50
    assert first_stop(GapRule(threshold=0.2, patience=2), OVERFITS) == 60


def test_gap_rule_without_a_baseline_judges_every_trial():
    assert first_stop(GapRule(), NEVER_LEARNS, baseline=math.nan) == 30


def test_gap_decision_is_a_stopped_outcome_naming_the_turn():
    decision = GapRule().decide(evals(OVERFITS[:5]))
    assert (decision.status, decision.kind, decision.step, decision.excluded) == (
        STOPPED, "gap", 50, False)
    assert decision.reason == ("overfitting: val_loss rose from 0.5000 (step 30) to 0.5600 while "
                               "train_loss fell from 0.4200 to 0.3000, gap 0.26, for 2 evals")


def test_gap_limit_is_what_within_gap_limit_asks():
    assert GapRule(threshold=0.2).within_limit(0.2, 0.6)
    assert not GapRule(threshold=0.2).within_limit(0.21, 0.6)
    assert GapRule(threshold=0.5, relative=True).within_limit(0.29, 0.6)
    assert not GapRule(threshold=0.5, relative=True).within_limit(0.31, 0.6)
    assert not GapRule(threshold=0.2).within_limit(math.nan, 0.6)


PLATEAU = [(0.60, 0.6), (0.55, 0.5), (0.56, 0.45), (0.555, 0.44), (0.57, 0.43), (0.54, 0.4)]


@pytest.mark.parametrize(
    "rule, step",
    [
        (EarlyStopping(patience=3), 50),  # best at 20, no improvement at 30, 40, 50
        (EarlyStopping(patience=4), None),  # 60 improves
        (EarlyStopping(patience=2), 40),
        (EarlyStopping(patience=2, grace_steps=40), 50),  # would stop at 40, inside the grace
        (EarlyStopping(patience=2, grace_steps=50), None),  # by 60 it improved
        (EarlyStopping(patience=3, min_delta=0.02), 50),
    ],
)
def test_early_stopping_counts_evaluations_without_improvement(rule, step):
    assert first_stop(rule, PLATEAU) == step


def test_early_stopping_follows_the_objective_direction():
    # Objective val_accuracy, maximised: score is its negative.
    history = [Evaluation(step=10 * i, val_loss=0.5, train_eval_loss=0.4, objective=acc, score=-acc)
               for i, acc in enumerate([0.7, 0.8, 0.79, 0.78], start=1)]
    decision = EarlyStopping(patience=2).decide(history)
    assert decision.kind == "early-stopping" and decision.status == STOPPED
    assert decision.reason == "no improvement for 2 evals since step 20 (best objective 0.8000)"
    assert EarlyStopping(patience=2).decide(history[:3]) is None


@pytest.mark.parametrize(
    "rule, rows, step",
    [
        (NotLearning(), NEVER_LEARNS, None),  # only 5 evals of 10: never past half of 100 steps
        (NotLearning(), NEVER_LEARNS * 2, 60),  # past step 50 and still not below 0.676
        (NotLearning(grace_steps=20), NEVER_LEARNS, 30),
        (NotLearning(grace_steps=20, min_improvement=0.0), NEVER_LEARNS, 30),  # 0.70 >= 0.69
        (NotLearning(grace_steps=20, min_improvement=0.0), [(0.68, 0.6)] * 3, None),
        (NotLearning(grace_steps=0), OVERFITS, None),  # 0.66 < 0.6762 at once
        (NotLearning(grace_steps=0), [(0.68, 0.67)], 10),  # 0.68 is not 2% below 0.69
    ],
    ids=["in-grace", "half-budget", "grace", "no-margin", "no-margin-below", "learned",
         "first-eval"],
)
def test_not_learning_compares_the_best_val_loss_with_the_baseline(rule, rows, step):
    assert first_stop(rule, rows) == step


def test_not_learning_prunes_and_excludes_the_trial():
    decision = NotLearning(grace_steps=20).decide(evals(NEVER_LEARNS))
    assert (decision.status, decision.kind, decision.excluded) == (PRUNED, "not-learning", True)
    assert "0.7000" in decision.reason and "0.6762" in decision.reason


def test_not_learning_without_a_baseline_never_stops():
    assert first_stop(NotLearning(grace_steps=0), NEVER_LEARNS, baseline=math.nan) is None


@pytest.mark.parametrize(
    "model, fields, message",
    [
        (GapRule, {"patience": 0}, "Input should be greater than or equal to 1"),
        (GapRule, {"threshold": -0.1}, "Input should be greater than or equal to 0"),
        (GapRule, {"threshold": math.inf}, "Input should be a finite number"),
        (GapRule, {"min_delta": math.nan}, "Input should be a finite number"),
        (GapRule, {"grace_steps": -1}, "Input should be greater than or equal to 0"),
        (GapRule, {"patience": 1.5}, "Input should be a valid integer"),
        (EarlyStopping, {"patience": 0}, "Input should be greater than or equal to 1"),
        (NotLearning, {"min_improvement": 1.0}, "Input should be less than 1"),
        (NotLearning, {"grace_steps": -5}, "Input should be greater than or equal to 0"),
        (GapRule, {"bogus": 1}, "Extra inputs are not permitted"),
    ],
)
def test_rules_reject_bad_settings_naming_the_value(model, fields, message):
    with pytest.raises(ValidationError) as caught:
        model(**fields)
    assert message in str(caught.value)
    assert repr(next(iter(fields.values()))) in str(caught.value)


def test_the_rules_run_in_order_and_can_be_switched_off():
    assert [type(r) for r in StoppingSpec().rules()] == [NotLearning, GapRule]
    spec = StoppingSpec(gap=None, early_stopping=EarlyStopping(), not_learning=NotLearning(
        enabled=False))
    assert [type(r) for r in spec.rules()] == [EarlyStopping]


def report(step, val, train, baseline=BASELINE, **extra):
    return {"step": step, "val_loss": val, "train_eval_loss": train, "baseline_loss": baseline,
            "total_steps": 100, **extra}


def test_the_stopper_records_the_first_rule_that_decides(tmp_path):
    ledger = StopLedger(tmp_path / "stops.jsonl")
    stopper = RuleStopper([NotLearning(grace_steps=0), GapRule(patience=1)], ledger,
                          "val_loss", "min")
    assert not stopper("a", report(10, 0.60, 0.55))
    assert not stopper("a", report(20, 0.50, 0.45))
    assert stopper("a", report(30, 0.55, 0.40))  # the turn
    assert ledger.decision("a").kind == "gap"
    assert stopper("b", report(10, 0.70, 0.69))  # not learning comes first
    assert StopLedger(tmp_path / "stops.jsonl").decision("b").kind == "not-learning"  # on disk


def test_at_the_last_step_only_a_rule_that_excludes_the_trial_decides(tmp_path):
    # A trial at its last step ends anyway: the gap's turn there is no stop (it completed),
    # but a trial that never learned is still said to be one (its checkpoints are excluded).
    ledger = StopLedger()
    stopper = RuleStopper([NotLearning(grace_steps=0), GapRule(patience=1)], ledger,
                          "val_loss", "min")
    assert not stopper("a", report(90, 0.50, 0.45))
    assert not stopper("a", report(100, 0.55, 0.40))  # the turn, at step 100 of 100
    assert ledger.decision("a") is None
    assert stopper("b", report(100, 0.70, 0.69))
    assert ledger.decision("b").kind == "not-learning"


def test_the_stopper_ignores_outcome_reports_and_repeated_steps():
    ledger = StopLedger()
    stopper = RuleStopper([GapRule(patience=1)], ledger, "val_loss", "min")
    assert not stopper("a", report(10, 0.6, 0.5))
    assert not stopper("a", report(20, 0.5, 0.4))
    # Each report below is one the gap rule would stop on (validation up, training down) if it
    # were judged: the guards, not the rule, keep them out.
    assert not stopper("a", report(20, 0.9, 0.3))  # step 20 again (a resumed trial): judged
    assert not stopper("a", {**report(30, 0.9, 0.3), "outcome": "diverged"})  # ends by itself
    assert not stopper("a", {**report(30, math.nan, math.nan), "outcome": "diverged"})
    assert ledger.decision("a") is None
    assert stopper("a", report(30, 0.9, 0.3))  # the same figures at a new step: a stop


def test_copies_of_a_ledger_share_their_decisions_through_its_file(tmp_path):
    # After `basin resume` Ray unpickles the stopper and the searcher apart: two ledgers.
    import pickle

    ledger = StopLedger(tmp_path / "stops.jsonl")
    copy = pickle.loads(pickle.dumps(ledger))
    decision = GapRule(patience=1).decide(evals(OVERFITS[:4]))
    ledger.record("a", decision)
    assert copy.decision("a") == decision
    ledger.record("a", NotLearning(grace_steps=0).decide(evals(NEVER_LEARNS)))  # first wins
    assert StopLedger(tmp_path / "stops.jsonl").decision("a") == decision


def recorded(rows: list[tuple]) -> list[Evaluation]:
    """(step, val_loss, train_eval_loss, baseline, val_loss_se, distinct predictions) per
    evaluation, as a trial reported them."""
    return [Evaluation(step=step, val_loss=val, train_eval_loss=train, objective=val, score=val,
                       baseline_loss=base, total_steps=120, val_loss_se=se,
                       distinct_predictions=distinct)
            for step, val, train, base, se, distinct in rows]


# Two trials of the MiniLM demo table (benchmarks/curves/demo.json.gz, configurations 0
# and 5): both turn, one after learning, one predicting a single class throughout.
LEARNED_THEN_TURNED = [(15, 0.7091, 0.6684, 0.7095, 0.0084, 1), (30, 0.6579, 0.5707, 0.7095, 0.0162, 2),
                       (45, 0.6771, 0.5025, 0.7095, 0.0360, 2), (60, 0.6725, 0.5054, 0.7095, 0.0537, 2)]
ONE_CLASS_THROUGHOUT = [(15, 0.6955, 0.6856, 0.7095, 0.0026, 1), (30, 0.7074, 0.6773, 0.7095, 0.0074, 1),
                        (45, 0.7013, 0.6716, 0.7095, 0.0068, 1)]


def test_a_trial_that_never_learned_is_not_said_to_overfit():
    learned = GapRule().decide(recorded(LEARNED_THEN_TURNED))
    assert learned.reason.startswith("overfitting: val_loss rose from 0.6579 (step 30)")
    # Below the baseline only because one constant output fits the validation labels better
    # than the training prior: stopped at the same turn, but it never learned.
    collapsed = GapRule().decide(recorded(ONE_CLASS_THROUGHOUT))
    assert (collapsed.status, collapsed.kind, collapsed.step) == (STOPPED, "gap", 45)
    assert "overfitting" not in collapsed.reason
    assert collapsed.reason.endswith("it never learned: at its best step it gave one output for "
                                     "every validation example (collapsed to one output)")
    # Two outputs, but its best never below the not-learning rule's threshold (98% of 0.69).
    barely = [(step, val, train, 0.69, 0.005, 2) for step, val, train in
              [(10, 0.684, 0.68), (20, 0.70, 0.66), (30, 0.71, 0.64)]]
    never = GapRule().decide(recorded(barely))
    assert "overfitting" not in never.reason
    assert never.reason.endswith("it never learned: its best val_loss was not below 0.6762 (98% "
                                 "of the baseline 0.6900, a model that learned nothing)")
