"""Ranking, the best trial, the gap filter and best.yaml, on hand-made trial records."""

from __future__ import annotations

from search.results import (
    TrialRecord,
    best_record,
    best_spec,
    leaderboard_rows,
    rank,
    within_gap_limit,
)
from search.spec import load_spec, validate_spec


def record(trial_id, status, objective, gap=0.1, val_loss=0.6, reason=""):
    return TrialRecord(trial_id=trial_id, status=status, reason=reason,
                       params={"learning_rate": 0.001, "lora_r": 4, "lora_dropout": 0.0},
                       best_objective=objective, best_step=10, last_step=20,
                       final={"gap": gap, "val_loss": val_loss, "train_eval_loss": val_loss - gap})


RECORDS = [
    record("a", "pruned", 0.40, reason="gap 0.5 > 0.30 for 2 evals (step 20)"),
    record("b", "completed", 0.55),
    record("c", "failed", None, reason="boom"),
    record("d", "completed", 0.50),
    record("e", "running", 0.45),
    record("f", "pruned", 0.45, reason="asha: below its rung's cut-off"),
]


def test_rank_puts_completed_first_then_running_pruned_failed():
    assert [r.trial_id for r in rank(RECORDS, "min")] == ["d", "b", "e", "a", "f", "c"]
    assert [r.trial_id for r in rank(RECORDS, "max")][:2] == ["b", "d"]


def test_best_is_a_completed_trial_even_if_a_pruned_one_scored_better():
    assert best_record(RECORDS, "min").trial_id == "d"
    assert best_record([RECORDS[0], RECORDS[2]], "min") is None


def test_status_labels():
    assert [r.status_label for r in RECORDS] == [
        "pruned: gap", "completed", "failed", "completed", "running", "pruned: asha"]


def test_gap_filter_absolute_and_relative(sweep_factory):
    spec = load_spec(sweep_factory(gap_pruning={"threshold": 0.2}))
    assert within_gap_limit(record("x", "completed", 0.5, gap=0.19), spec)
    assert not within_gap_limit(record("x", "completed", 0.5, gap=0.21), spec)
    relative = load_spec(sweep_factory(gap_pruning={"threshold": 0.5, "relative": True}))
    assert within_gap_limit(record("x", "completed", 0.5, gap=0.29, val_loss=0.6), relative)
    assert not within_gap_limit(record("x", "completed", 0.5, gap=0.31, val_loss=0.6), relative)
    assert not within_gap_limit(TrialRecord("x", "running", "", {}, None, None, None), spec)


def test_best_spec_fixes_every_searched_value_and_runs_one_trial(sweep_factory):
    spec = load_spec(sweep_factory(scheduler={"type": "asha", "grace_period": 4}))
    fixed = best_spec(spec, RECORDS[3])
    assert {name: p.value for name, p in fixed.space.items()} == RECORDS[3].params
    assert fixed.search.num_trials == 1 and fixed.scheduler.type == "fifo"
    assert fixed.name == "tiny-best"
    validate_spec(fixed.model_dump(mode="json"))  # a valid sweep file again


def test_leaderboard_rows_are_ranked_raw_values(sweep_factory):
    spec = load_spec(sweep_factory())
    columns, rows = leaderboard_rows(RECORDS, spec)
    assert columns[:3] == ["trial", "lr", "r"]
    assert [row[0] for row in rows] == ["d", "b", "e", "a", "f", "c"]
    assert rows[0][columns.index("best val_loss")] == 0.50
    assert rows[3][columns.index("status")] == "pruned: gap"


def test_status_text_keeps_reasons_that_say_something():
    diverged = record("g", "pruned", None, reason="diverged: non-finite training loss nan at step 3")
    assert [r.status_text for r in [*RECORDS, diverged]] == [
        "pruned: gap (gap 0.5 > 0.30 for 2 evals (step 20))", "completed", "failed (boom)",
        "completed", "running", "pruned: asha",
        "pruned: diverged (diverged: non-finite training loss nan at step 3)"]
