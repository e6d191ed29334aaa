"""The gap rule, driven with loss sequences and no Ray."""

from __future__ import annotations

import math

import pytest

from search.pruning import Evaluation, GapRule


def first_stop(rule: GapRule, losses: list[tuple[float, float]], every: int = 10) -> int | None:
    """Feed (train, val) losses one evaluation at a time; the step at which the rule stops."""
    history: list[Evaluation] = []
    for index, (train, val) in enumerate(losses, start=1):
        history.append(Evaluation(index * every, train, val))
        if rule.stop_reason(history):
            return history[-1].step
    return None


FLAT = [(0.6, 0.62)] * 6
DIVERGING = [(0.6, 0.62), (0.5, 0.6), (0.4, 0.75), (0.3, 0.8), (0.2, 0.9), (0.1, 1.0)]
BLIP = [(0.5, 0.55), (0.3, 0.7), (0.4, 0.5), (0.2, 0.6), (0.3, 0.4), (0.25, 0.35)]


@pytest.mark.parametrize(
    "rule, losses, expected_step",
    [
        (GapRule(0.3, patience=1), FLAT, None),
        (GapRule(0.3, patience=1), DIVERGING, 30),  # gap 0.35 at the 3rd eval
        (GapRule(0.3, patience=2), DIVERGING, 40),
        (GapRule(0.3, patience=3), DIVERGING, 50),
        (GapRule(0.3, patience=2, grace_steps=40), DIVERGING, 60),  # evals at 10..40 ignored
        (GapRule(0.3, patience=2), BLIP, None),  # over the limit twice, never in a row
        (GapRule(0.3, patience=1), BLIP, 20),
        (GapRule(0.5, relative=True, patience=2), DIVERGING, 50),  # ratios .47 .63 .78: over at 40, 50
        (GapRule(0.8, relative=True, patience=1), DIVERGING, 60),  # 0.7/0.9 = 0.78, 0.9/1.0 = 0.9
        (GapRule(0.3, patience=1), [(0.5, 0.5), (0.2, math.nan)], 20),  # NaN counts as over
        (GapRule(0.3, patience=1), [(0.5, 0.5), (0.2, math.inf)], 20),
    ],
)
def test_stop_step(rule, losses, expected_step):
    assert first_stop(rule, losses) == expected_step


def test_relative_threshold_arithmetic():
    rule = GapRule(0.5, relative=True, patience=1)
    assert not rule.exceeds(Evaluation(1, 0.4, 0.75))  # gap 0.35 < 0.375
    assert rule.exceeds(Evaluation(1, 0.3, 0.8))  # gap 0.5 > 0.4


def test_reason_names_gap_limit_and_count():
    history = [Evaluation(10, 0.1, 0.5), Evaluation(20, 0.1, 0.52)]
    assert GapRule(0.3, patience=2).stop_reason(history) == "gap 0.42 > 0.30 for 2 evals (step 20)"
    assert GapRule(0.5, relative=True, patience=1).stop_reason(history) == (
        "gap 0.42 > 50% of val_loss for 2 evals (step 20)")
    assert GapRule(0.3, patience=1).stop_reason(history[:1]) == "gap 0.40 > 0.30 for 1 eval (step 10)"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"threshold": 0}, "threshold must be a finite number > 0 (got 0)"),
        ({"threshold": -0.1}, "threshold must be a finite number > 0 (got -0.1)"),
        ({"threshold": math.nan}, "threshold must be a finite number > 0 (got nan)"),
        ({"threshold": 0.3, "patience": 0}, "patience must be an integer >= 1 (got 0)"),
        ({"threshold": 0.3, "patience": 1.5}, "patience must be an integer >= 1 (got 1.5)"),
        ({"threshold": 0.3, "grace_steps": -1}, "grace_steps must be an integer >= 0 (got -1)"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as caught:
        GapRule(**kwargs)
    assert str(caught.value) == message
