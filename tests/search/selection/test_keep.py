"""The keep policy: which candidates keep their weights, and that pruning as the reports arrive
never changes what the objective criterion ranks first (so the choice, basin check's and basin
confirm's candidates are those of a sweep that kept everything)."""

from __future__ import annotations

import random

import pytest

from search.core.outcome import COMPLETED, Outcome
from search.selection import ObjectiveCriterion, OneStandardErrorCriterion
from search.selection.candidates import gather
from search.selection.keep import KeepSpec, kept
from search.spec.model import SweepSpec
from tests.conftest import tiny_sweep
from tests.search.selection.test_selection import RECORDS, trial

OBJECTIVE = ObjectiveCriterion()


def every_candidate(records):
    return gather(records, "val_loss", "min").candidates


def test_each_trials_best_and_the_sweeps_best_are_kept():
    pool = every_candidate(RECORDS)
    keep = kept(pool, pool, OBJECTIVE, KeepSpec(per_trial=1, best=2))
    # Each trial's lowest val_loss, and the two lowest of the sweep (overfit@20, cut@20).
    assert keep == {("full", 30), ("overfit", 20), ("cut", 20), ("live", 10)}
    keep = kept(pool, pool, OBJECTIVE, KeepSpec(per_trial=2, best=0))
    assert keep == {("full", 30), ("full", 40), ("overfit", 20), ("overfit", 30), ("cut", 20),
                    ("cut", 10), ("live", 10)}


def test_the_criterions_own_favourites_are_kept_too():
    pool = every_candidate(RECORDS)
    criterion = OneStandardErrorCriterion()
    favourite = criterion.rank(pool)[0]
    keep = kept(pool, pool, criterion, KeepSpec(per_trial=1, best=1))
    assert (favourite.trial_id, favourite.step) in keep


def test_a_favourite_of_the_criterion_that_no_objective_ranking_keeps_is_kept():
    # One-se prefers step 20 (within a standard error of step 10, a far smaller gap): neither
    # the trial's best by the objective nor the sweep's; only the criterion's ranking keeps it.
    pool = every_candidate([trial("a", RECORDS[0].outcome, [(10, 0.50, 0.30), (20, 0.505, 0.01)]),
                            trial("b", RECORDS[0].outcome, [(10, 0.60, 0.02)])])
    criterion = OneStandardErrorCriterion()
    assert (criterion.rank(pool)[0].trial_id, criterion.rank(pool)[0].step) == ("a", 20)
    policy = KeepSpec(per_trial=1, best=1)
    assert ("a", 20) not in kept(pool, pool, OBJECTIVE, policy)
    assert kept(pool, pool, criterion, policy) == {("a", 10), ("a", 20), ("b", 10)}


def test_keeping_everything_deletes_nothing():
    pool = every_candidate(RECORDS)
    assert kept(pool, [], OBJECTIVE, KeepSpec(per_trial=None)) == {
        (c.trial_id, c.step) for c in pool}


@pytest.mark.parametrize("seed", range(20))
def test_a_candidate_dropped_early_is_never_among_the_final_best(seed):
    """Replaying reports in a random order, as the keeper sees them: what it deleted at any
    point is outside the final keep set, and the final top candidates by the objective are
    exactly those of the whole sweep."""
    rng = random.Random(seed)
    records = [trial(f"t{i}", Outcome(COMPLETED, "budget", "", 40),
                     [(step, rng.uniform(0.3, 0.7), 0.05) for step in (10, 20, 30, 40)])
               for i in range(6)]
    everything = every_candidate(records)
    order = everything[:]
    rng.shuffle(order)
    spec = KeepSpec(per_trial=1, best=3)
    seen, deleted = [], set()
    for candidate in order:
        seen.append(candidate)
        deleted |= {(c.trial_id, c.step) for c in seen} - kept(seen, seen, OBJECTIVE, spec)
    final = kept(everything, everything, OBJECTIVE, spec)
    assert not deleted & final
    left = [c for c in everything if (c.trial_id, c.step) not in deleted]
    assert OBJECTIVE.rank(left)[:3] == OBJECTIVE.rank(everything)[:3]
    assert {c.trial_id for c in left} == {r.trial_id for r in records}  # every trial keeps one


def test_the_sweep_file_refuses_a_keep_policy_that_would_starve_basin_check(tmp_path):
    with pytest.raises(ValueError, match=r"keep.best must be at least check.top.*\(got 2 < 5\)"):
        SweepSpec(**tiny_sweep(tmp_path, keep={"best": 2}, check={"top": 5}))
    SweepSpec(**tiny_sweep(tmp_path, keep={"per_trial": None, "best": 0}, check={"top": 5}))
    with pytest.raises(ValueError, match="per_trial"):
        SweepSpec(**tiny_sweep(tmp_path, keep={"per_trial": 0}))
