"""The sweep's time estimate from a measured speed: the arithmetic, what keys a speed, the cache
it is kept in, and how basin init fits a sweep to a time budget."""

from __future__ import annotations

import pytest

from search.spec.estimate import (
    RULES_SHARE_ALONE,
    RULES_SHARE_UNDER_ASHA,
    Speed,
    describe,
    evaluation_every_that_fits,
    expected_steps,
    load_speed,
    save_speed,
    speed_key,
    sweep_seconds,
    trials_that_fit,
)
from search.spec.model import load_spec

SPEED = Speed(seconds_per_step=0.5, seconds_per_evaluation=2.0, examples=100,
              startup_seconds=10.0)
NO_RULES = {"not_learning": None, "gap": None, "early_stopping": None}


def test_a_sweep_is_its_trials_so_many_at_a_time(sweep_factory):
    fifo = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10},
                                   search={"num_trials": 5, "max_concurrent_trials": 2},
                                   scheduler={"type": "fifo"}, stopping=NO_RULES))
    # A trial: 10 s start-up + 40 steps x 0.5 s + 4 evaluations x 2 s x (200 / 100 examples).
    assert expected_steps(fifo) == 40
    assert sweep_seconds(fifo, SPEED, examples=200) == pytest.approx(3 * (10 + 20 + 16))
    assert describe(fifo, SPEED, 200) == (
        "5 trials of up to 40 steps: about 2 min on this machine, 2 at a time (measured: 0.50 s "
        "a step, 4.0 s an evaluation)")
    # ASHA at 10 and 20 steps, halving: all train 10, half 10 more, a quarter the last 20.
    asha = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10},
                                   search={"num_trials": 20, "max_concurrent_trials": 2},
                                   scheduler={"type": "asha", "grace_period": 10,
                                              "reduction_factor": 2},
                                   stopping=NO_RULES))
    assert expected_steps(asha) == pytest.approx(10 + 5 + 5)
    assert describe(asha, SPEED, 200).startswith(
        "20 trials of up to 40 steps: about 5 min on this machine (at most 8 min if no trial "
        "stops early), 2 at a time")


def test_stopping_rules_shorten_the_expected_trial_by_the_replays_share(sweep_factory):
    # The rules (on in the shipped sweeps) end trials earlier than ASHA or the budget alone; without them
    # a recorded sweep's estimate ran 43% over its wall time (61% of the steps trained, where
    # ASHA alone expects 75%).
    asha = {"type": "asha", "grace_period": 10, "reduction_factor": 2}
    rules = {"not_learning": {}, "gap": {}}
    with_rules = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10},
                                         scheduler=asha, stopping=rules))
    assert with_rules.stopping.rules()
    assert expected_steps(with_rules) == pytest.approx(20 * RULES_SHARE_UNDER_ASHA)
    fifo = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10},
                                   scheduler={"type": "fifo"}, stopping=rules))
    assert expected_steps(fifo) == pytest.approx(40 * RULES_SHARE_ALONE)
    only_gap = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10},
                                       scheduler=asha,
                                       stopping={**NO_RULES, "gap": {"threshold": 0.1}}))
    assert expected_steps(only_gap) == pytest.approx(20 * RULES_SHARE_UNDER_ASHA)


def test_the_speed_is_kept_per_recipe_speed_not_per_sweep_size(sweep_factory, tmp_path):
    spec = load_spec(sweep_factory())
    assert load_speed(spec, tmp_path) is None
    save_speed(spec, SPEED, tmp_path)
    more_trials = load_spec(sweep_factory(search={"num_trials": 40}))
    assert load_speed(more_trials, tmp_path) == SPEED  # the same recipe, another sweep size
    bigger_batch = load_spec(sweep_factory(training={"micro_batch_size": 32}))
    assert speed_key(bigger_batch) != speed_key(spec) and load_speed(bigger_batch, tmp_path) is None
    (tmp_path / "speeds.json").write_text("{not json")
    assert load_speed(spec, tmp_path) is None  # a damaged cache is no speed, never an error
    save_speed(spec, SPEED, tmp_path)
    assert load_speed(spec, tmp_path) == SPEED


def test_a_budget_takes_fewer_trials_then_shorter_ones():
    # 100 s a trial, 2 at a time: 20 minutes hold 24 trials; 10 asked for: 10.
    assert trials_that_fit(10, 4, per_trial=100, at_once=2, budget=1200) == 10
    assert trials_that_fit(10, 4, per_trial=100, at_once=2, budget=300) == 6
    assert trials_that_fit(10, 4, per_trial=100, at_once=2, budget=60) == 4  # never below 4
    assert trials_that_fit(2, 4, per_trial=100, at_once=2, budget=60) == 2  # nor above --trials
    # 2 rounds in 120 s: 60 s a trial, 10 s start-up, 8 windows of 6.25 s, each a 2 s
    # evaluation (100 examples) and 8 steps of 0.5 s.
    assert evaluation_every_that_fits(SPEED, 100, evaluations=8, rounds=2, budget=120) == 8
    assert evaluation_every_that_fits(SPEED, 100, evaluations=8, rounds=2, budget=10) == 1
