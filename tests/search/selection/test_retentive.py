"""The front of (objective, drift) and the ``retentive`` criterion, on hand-made candidates."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from search.selection import RetentiveCriterion, Selection
from search.selection.candidates import Candidate
from search.selection.front import front


def candidate(trial: str, val_loss: float, drift: float | None, step: int = 10,
              se: float = 0.02, objective: float | None = None) -> Candidate:
    """A candidate whose objective is its val_loss (minimised) unless given."""
    objective = val_loss if objective is None else objective
    return Candidate(trial, step, {}, objective, objective, val_loss, se, 0.1, 0.1, "",
                     "completed", drift=drift)


# Four on the front (each trades objective for drift), two behind it, one never measured.
BEST = candidate("best", 0.50, drift=0.40)
NEAR = candidate("near", 0.51, drift=0.20)
KEPT = candidate("kept", 0.515, drift=0.05)
FAR = candidate("far", 0.70, drift=0.01)
BEHIND = candidate("behind", 0.52, drift=0.30)         # "near" beats it on both
TIED = candidate("tied", 0.515, drift=0.05, step=20)   # "kept" again, later: not on the front
UNMEASURED = candidate("unmeasured", 0.505, drift=None)
ALL = [FAR, BEHIND, UNMEASURED, KEPT, TIED, NEAR, BEST]


def test_the_front_holds_what_nothing_beats_on_both_best_objective_first():
    assert [c.trial_id for c in front(ALL)] == ["best", "near", "kept", "far"]
    assert front([UNMEASURED]) == []


def test_retentive_takes_the_least_drift_within_one_standard_error():
    ranked = RetentiveCriterion().rank(ALL)
    # The band: val_loss <= 0.50 + 0.02. Inside it by drift (the unmeasured one last), then the
    # rest by objective.
    assert [c.trial_id for c in ranked] == ["kept", "tied", "near", "behind", "best",
                                            "unmeasured", "far"]
    why = RetentiveCriterion().why(ranked[0], ALL, "val_loss")
    assert why.startswith("retentive: drift 0.0500, the least of the 6 candidates within one "
                          "standard error of the best val_loss (trial best at step 10")


def test_a_tolerance_widens_or_narrows_the_band_in_the_objectives_units():
    assert RetentiveCriterion(tolerance=0.25).rank(ALL)[0] is FAR
    assert RetentiveCriterion(tolerance=0.0).rank(ALL)[0] is BEST
    why = RetentiveCriterion(tolerance=0.25).why(FAR, ALL, "val_loss")
    assert "within 0.25 of the best val_loss" in why


def test_a_maximised_objective_is_banded_by_its_score():
    # val_accuracy: score = -accuracy; a tolerance of 0.02 accuracy.
    high = Candidate("high", 10, {}, 0.90, -0.90, 0.3, 0.02, 0.1, 0.1, "", "completed", drift=0.3)
    close = Candidate("close", 10, {}, 0.89, -0.89, 0.3, 0.02, 0.1, 0.1, "", "completed",
                      drift=0.1)
    low = Candidate("low", 10, {}, 0.80, -0.80, 0.3, 0.02, 0.1, 0.1, "", "completed", drift=0.0)
    assert [c.trial_id for c in RetentiveCriterion(tolerance=0.02).rank([low, high, close])] \
        == ["close", "high", "low"]


def test_without_any_drift_it_is_the_objective_and_says_why():
    plain = [candidate("b", 0.52, None), candidate("a", 0.50, None)]
    ranked = RetentiveCriterion().rank(plain)
    assert [c.trial_id for c in ranked] == ["a", "b"]
    assert "measured its drift" in RetentiveCriterion().why(ranked[0], plain, "val_loss")


def test_the_sweep_file_names_it_and_refuses_a_negative_tolerance():
    adapter = TypeAdapter(Selection)
    assert adapter.validate_python({"criterion": "retentive"}).tolerance is None
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        adapter.validate_python({"criterion": "retentive", "tolerance": -1})
