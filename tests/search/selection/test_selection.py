"""Selection on hand-made trial records: which checkpoints are candidates, how each criterion
ranks them, ties, empty pools, the fallback, and basin confirm's winner."""

from __future__ import annotations

import pytest

from search.core.outcome import COMPLETED, FAILED, PRUNED, RUNNING, STOPPED, Outcome
from search.core.record import TrialRecord
from search.selection import (
    LastStepCriterion,
    MaxGapCriterion,
    ObjectiveCriterion,
    OneStandardErrorCriterion,
)
from search.selection.candidates import COLLAPSED, gather
from search.selection.choice import choose


def trial(trial_id, outcome, rows, checkpoints=None, lr=0.001):
    """A record whose evaluations are (step, val_loss, gap[, se, distinct predictions])."""
    evaluations = []
    for row in rows:
        step, val, gap, se, distinct = (*row, 0.02, 2)[:5] if len(row) == 3 else (*row, 2)[:5]
        evaluations.append({"step": step, "val_loss": val, "gap": gap,
                            "train_eval_loss": val - gap, "val_loss_se": se,
                            "val_distinct_predictions": distinct})
    steps = [row[0] for row in rows] if checkpoints is None else checkpoints
    return TrialRecord(trial_id, outcome, {"learning_rate": lr, "lora_r": 4, "lora_dropout": 0.0},
                       evaluations, {step: f"/ckpt/{trial_id}/{step}" for step in steps})


DONE = Outcome(COMPLETED, "budget", "", 40)
GAP = Outcome(STOPPED, "gap", "overfitting", 30)
ASHA = Outcome(PRUNED, "asha", "below its rung's cut-off", 20)
NOT_LEARNING = Outcome(PRUNED, "not-learning", "not learning", 20, excluded=True)
DIVERGED = Outcome(PRUNED, "diverged", "nan", 5, excluded=True)
ERROR = Outcome(FAILED, "error", "boom", 0, excluded=True)

RECORDS = [
    trial("full", DONE, [(10, 0.60, 0.02), (20, 0.52, 0.06), (30, 0.50, 0.10), (40, 0.51, 0.15)]),
    # Gap-stopped: its step-20 checkpoint is the best of the sweep.
    trial("overfit", GAP, [(10, 0.55, 0.05), (20, 0.47, 0.20), (30, 0.49, 0.30)]),
    trial("cut", ASHA, [(10, 0.56, 0.01), (20, 0.485, 0.03)]),
    trial("idle", NOT_LEARNING, [(10, 0.40, 0.0), (20, 0.41, 0.0)]),  # excluded despite 0.40
    trial("nan", DIVERGED, [(5, 0.30, 0.0)]),
    trial("broken", ERROR, []),
    trial("live", Outcome(RUNNING, RUNNING), [(10, 0.58, 0.01)]),
]


def ids(candidates):
    return [(c.trial_id, c.step) for c in candidates]


def test_candidates_are_every_checkpoint_of_eligible_trials_stopped_ones_included():
    pool = gather(RECORDS, "val_loss", "min")
    assert set(ids(pool.candidates)) == {
        ("full", 10), ("full", 20), ("full", 30), ("full", 40), ("overfit", 10),
        ("overfit", 20), ("overfit", 30), ("cut", 10), ("cut", 20), ("live", 10)}
    assert pool.excluded == {"not-learning": ["idle"], "diverged": ["nan"], "error": ["broken"]}
    assert not pool.fallback


def test_a_step_without_a_checkpoint_or_with_one_output_is_no_candidate():
    records = [trial("a", DONE, [(10, 0.5, 0.1, 0.02, 1), (20, 0.45, 0.1), (30, 0.4, 0.2)],
                     checkpoints=[10, 20])]
    assert ids(gather(records, "val_loss", "min").candidates) == [("a", 20)]
    collapsed = [trial("b", DONE, [(10, 0.69, 0.0, 0.02, 1)])]
    pool = gather(collapsed + records, "val_loss", "min")
    assert pool.excluded == {COLLAPSED: ["b"]} and ids(pool.candidates) == [("a", 20)]


def test_objective_picks_a_gap_stopped_trials_best_checkpoint():
    choice = choose(RECORDS, ObjectiveCriterion(), "val_loss", "min")
    assert ids([choice.chosen]) == [("overfit", 20)]
    assert choice.why == "objective: the best val_loss (0.4700) of 10 candidate checkpoints"
    assert choice.trial_order() == ["overfit", "cut", "full", "live"]
    assert choice.best_of("full").step == 30 and choice.best_of("idle") is None


def test_objective_in_max_mode_and_its_ties():
    records = [trial("a", DONE, [(10, 0.5, 0.2)]), trial("b", DONE, [(10, 0.5, 0.1)]),
               trial("c", DONE, [(20, 0.5, 0.1)])]
    # Equal objectives: the smaller gap, then the earlier step.
    assert ids(ObjectiveCriterion().rank(gather(records, "val_loss", "min").candidates)) == [
        ("b", 10), ("c", 20), ("a", 10)]
    for record, accuracy in zip(records, (0.7, 0.9, 0.8)):
        record.evaluations[0]["val_accuracy"] = accuracy
    choice = choose(records, ObjectiveCriterion(), "val_accuracy", "max")
    assert choice.chosen.trial_id == "b" and choice.chosen.objective == 0.9


def test_one_se_takes_the_smallest_gap_within_one_standard_error_of_the_best():
    # Best val_loss 0.47 (overfit@20, se 0.02): the band is <= 0.49; in it the smallest gap is
    # cut@20's 0.03 (full@30 0.50 is outside).
    choice = choose(RECORDS, OneStandardErrorCriterion(), "val_loss", "min")
    assert ids([choice.chosen]) == [("cut", 20)]
    assert choice.why == (
        "one-se: val_loss 0.4850 is within one standard error (0.0200) of the best, 0.4700 "
        "(trial overfit at step 20), and its gap 0.0300 is the smallest of the 3 candidates in "
        "that band")
    ranked = ids(choice.ranked)
    assert ranked[:3] == [("cut", 20), ("overfit", 20), ("overfit", 30)]
    assert ranked[3] == ("full", 30)  # outside the band: by the objective


def test_one_se_without_an_error_is_the_objective():
    records = [trial("a", DONE, [(10, 0.5, 0.3, 0.0, 2), (20, 0.49, 0.4, 0.0, 2)])]
    assert OneStandardErrorCriterion().rank(gather(records, "val_loss", "min").candidates)[0].step == 20


def test_max_gap_takes_the_best_objective_within_the_limit_and_says_when_none_is():
    choice = choose(RECORDS, MaxGapCriterion(max_gap=0.1), "val_loss", "min")
    assert ids([choice.chosen]) == [("cut", 20)]  # overfit@20 (gap 0.2) is over the limit
    assert choice.why.startswith("max-gap: the best val_loss (0.4850) of the 7 candidates")
    relative = choose(RECORDS, MaxGapCriterion(max_gap=0.5, relative=True), "val_loss", "min")
    assert ids([relative.chosen]) == [("overfit", 20)]  # 0.2 <= 0.5 * 0.47
    tight = choose(RECORDS, MaxGapCriterion(max_gap=0.005), "val_loss", "min")
    # No gap within 0.005: the smallest (0.01, cut@10 and live@10), then the better objective.
    assert ids([tight.chosen]) == [("cut", 10)]
    assert tight.why.startswith("max-gap: no candidate has a gap within 0.005")


def test_last_step_hands_on_the_recipe_s_final_checkpoint():
    records = [trial("a", DONE, [(10, 0.4, 0.0), (20, 0.5, 0.1)])]
    assert ids([choose(records, LastStepCriterion(), "val_loss", "min").chosen]) == [("a", 20)]


def test_no_checkpoint_yet_means_no_choice_and_says_so():
    choice = choose([trial("live", Outcome(RUNNING, RUNNING), [(10, 0.5, 0.1)], checkpoints=[])],
                    ObjectiveCriterion(), "val_loss", "min")
    assert choice.chosen is None and choice.ranked == []
    assert choice.why == "no trial has saved a checkpoint yet"
    assert choose([], ObjectiveCriterion(), "val_loss", "min").chosen is None


def test_when_every_trial_is_left_out_the_choice_falls_back_and_says_so():
    records = [RECORDS[3], RECORDS[4], RECORDS[5]]  # not learning, diverged, failed
    choice = choose(records, ObjectiveCriterion(), "val_loss", "min")
    assert ids([choice.chosen]) == [("nan", 5)]  # the only checkpoint there is
    assert "no eligible checkpoint (not-learning: 1, diverged: 1, error: 1)" in choice.why
    assert choice.fallback


def test_confirm_s_winner_is_the_choice_and_heads_the_ranking():
    confirmed = [{"trial_id": "full", "step": 30, "mean": 0.48, "spread": 0.01,
                  "objectives": [0.47, 0.49]},
                 {"trial_id": "overfit", "step": 20, "mean": 0.5, "spread": 0.0,
                  "objectives": [0.5, 0.5]}]
    choice = choose(RECORDS, ObjectiveCriterion(), "val_loss", "min", confirmed)
    assert ids([choice.chosen]) == [("full", 30)] and choice.ranked[0] is choice.chosen
    assert choice.why == ("confirmed: the best mean val_loss (0.4800, sd 0.0100) over 2 new "
                          "seeds of the 2 candidates basin confirm re-trained")


def test_a_filter_keeps_only_the_candidates_it_accepts():
    choice = choose(RECORDS, ObjectiveCriterion(), "val_loss", "min",
                    keep=lambda c: c.trial_outcome == "completed")
    assert ids([choice.chosen]) == [("full", 30)]  # how basin chose before: full budget only


@pytest.mark.parametrize("criterion", [ObjectiveCriterion(), OneStandardErrorCriterion(),
                                       MaxGapCriterion(max_gap=0.1), LastStepCriterion()])
def test_every_criterion_ranks_every_candidate_once(criterion):
    candidates = gather(RECORDS, "val_loss", "min").candidates
    assert sorted(ids(criterion.rank(candidates))) == sorted(ids(candidates))
    assert criterion.rank([]) == []


def test_even_a_failed_trial_answers_when_no_other_checkpoint_exists():
    crashed = trial("crashed", ERROR, [(10, 0.5, 0.1)])  # raised after one evaluation
    choice = choose([crashed], ObjectiveCriterion(), "val_loss", "min")
    assert ids([choice.chosen]) == [("crashed", 10)] and "(error: 1)" in choice.why
    assert choose([crashed, RECORDS[0]], ObjectiveCriterion(), "val_loss",
                  "min").chosen.trial_id == "full"


def test_the_why_says_how_many_evaluations_lost_their_weights_to_the_keep_policy():
    import copy

    records = copy.deepcopy(RECORDS)
    evaluated = sum(len(r.evaluations) for r in records)
    first = choose(records, ObjectiveCriterion(), "val_loss", "min")
    assert "no longer have their weights" not in first.why
    loser = next(r for r in records if r.trial_id != first.chosen.trial_id)
    del loser.checkpoints[loser.evaluations[0]["step"]]  # deleted as the sweep went
    after = choose(records, ObjectiveCriterion(), "val_loss", "min")
    assert after.chosen == first.chosen
    assert after.why.endswith(f"; 1 of {evaluated} evaluations no longer have their weights "
                              "(keep)")
