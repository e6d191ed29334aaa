"""How sure a choice is (search/selection/noise.py): the chosen checkpoint's standard error, the
other trials within it, the basin confirm that would separate them and its cost; a mean over
seeds with its interval, and one seed with no spread."""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from search.selection.candidates import Candidate
from search.selection.choice import Choice
from search.selection.noise import closeness, mean_interval, spread_text


def candidate(trial: str, val_loss: float, step: int = 30, se: float | None = 0.03,
              params: dict | None = None) -> Candidate:
    return Candidate(trial, step, params or {"learning_rate": hash(trial) % 97 / 1e4},
                     val_loss, val_loss, val_loss, se, 0.1, 0.1, f"/c/{trial}/{step}",
                     "completed")


def choice_of(*ranked: Candidate) -> Choice:
    return Choice(list(ranked), ranked[0] if ranked else None, "the best val_loss")


def test_other_trials_within_one_standard_error_are_named_with_the_confirm_that_separates_them():
    chosen = candidate("a", 0.600, step=60)
    noise = closeness(choice_of(chosen, candidate("a", 0.610, step=45),  # the same trial
                                candidate("b", 0.620, step=30), candidate("c", 0.629, step=45),
                                candidate("d", 0.640)), "val_loss")
    assert noise.se == 0.03
    assert [c.trial_id for c in noise.within] == ["b", "c"]  # d is 0.04 away; a is the choice
    # The three leaders with distinct recipes, as basin confirm --top 3 takes them: a at 60
    # and a at 45 (another recipe of the same trial), b at 30.
    assert [(c.trial_id, c.step) for c in noise.confirm] == [("a", 60), ("a", 45), ("b", 30)]
    assert noise.confirm_steps == 2 * (60 + 45 + 30)
    text, command = noise.said("runs/r1", spent_steps=480)
    assert text == ("val_loss 0.6000 ± 0.0300 (one standard error): 2 other trials' checkpoints "
                    "lie within it, so the choice among them is within noise. To separate them, "
                    "3 candidates x 2 new seeds re-train 270 steps (the sweep spent 480):")
    assert command == "basin confirm runs/r1 --top 3 --seeds 2"
    assert noise.as_dict()["within_noise"] == ["trial b at step 30", "trial c at step 45"]
    assert noise.as_dict()["confirm"] == {"top": 3, "seeds": 2, "steps": 270}


def test_a_clear_choice_says_so_and_suggests_nothing():
    noise = closeness(choice_of(candidate("a", 0.60), candidate("b", 0.70)), "val_loss")
    assert noise.said("r", 100) == (
        "val_loss 0.6000 ± 0.0300 (one standard error): no other trial's checkpoint lies "
        "within it.", None)
    assert noise.as_dict()["confirm"] is None


@pytest.mark.parametrize(("metric", "se"), [("accuracy", 0.03), ("val_loss", None),
                                            ("val_loss", math.nan)])
def test_without_a_standard_error_nothing_is_claimed_about_noise(metric, se):
    noise = closeness(choice_of(candidate("a", 0.60, se=se), candidate("b", 0.601)), metric)
    assert noise.se is None and noise.within == []
    text, command = noise.said("r", 100)
    assert "no standard error" in text and command is None


def test_nothing_chosen_has_no_closeness():
    assert closeness(Choice([], None, "no trial has saved a checkpoint yet"), "val_loss") is None


def test_the_confirm_suggested_re_trains_five_candidates_at_most():
    ranked = [candidate(f"t{i}", 0.600 + i / 1000) for i in range(9)]
    noise = closeness(choice_of(*ranked), "val_loss")
    assert len(noise.within) == 8 and len(noise.confirm) == 5


def test_a_mean_over_seeds_has_a_t_interval_and_one_seed_no_spread():
    assert mean_interval([0.5]) is None and spread_text([0.5]) == "needs 2 seeds"
    low, high = mean_interval([0.50, 0.52])  # sd 0.01414, se 0.01, t(1 df) 12.706
    assert (low, high) == pytest.approx((0.51 - 0.12706, 0.51 + 0.12706))
    low, high = mean_interval([0.50, 0.52, 0.54])  # se 0.011547, t(2 df) 4.303
    assert high - low == pytest.approx(2 * 4.303 * 0.02 / math.sqrt(3))
    assert spread_text([0.50, 0.52, 0.54]) == "0.0200"


def test_the_confirm_table_says_one_seed_has_no_spread(sweep_factory):
    from search.lifecycle.confirm import Confirmed, print_confirmed
    from search.spec.model import load_spec
    from search.store.rundir import RunDir

    run = RunDir.create(load_spec(sweep_factory()))
    one = Confirmed("a", 30, {"learning_rate": 1e-3}, 0.60, seeds=[1], objectives=[0.61])
    two = Confirmed("b", 30, {"learning_rate": 2e-3}, 0.62, seeds=[1, 2],
                    objectives=[0.60, 0.64])
    assert one.spread is None and one.as_dict()["interval"] is None
    assert two.as_dict()["interval"] == pytest.approx(list(mean_interval([0.60, 0.64])))
    console = Console(width=200, record=True)
    print_confirmed([one, two], run, console)
    shown = console.export_text()
    assert "needs 2 seeds" in shown and "0.0000" not in shown
    assert f"{mean_interval([0.60, 0.64])[0]:.4f} to {mean_interval([0.60, 0.64])[1]:.4f}" in shown
