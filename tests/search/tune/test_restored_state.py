"""basin resume from Ray files of two snapshots (search/tune/restored_state.py): whatever the
mix, Ray's restored trials decide what runs, and the study decides what Optuna was told. A
real study, a real searcher (conftest.py), Ray's own SearchGenerator and Trial objects (no Ray
run)."""

from __future__ import annotations

from optuna.trial import TrialState
from ray.tune.experiment import Trial
from ray.tune.search import SearchGenerator

from search.core.outcome import ORPHANED
from search.store.study import RAY_TRIAL_ATTR, told_outcome
from search.tune.optuna_search import HonestOptunaSearch
from search.tune.restored_state import settle


def restored(searcher: HonestOptunaSearch, snapshot) -> HonestOptunaSearch:
    """The searcher as Ray restores it from its saved file (reopening the same study)."""
    again = HonestOptunaSearch.__new__(HonestOptunaSearch)
    again.restore(str(snapshot))
    return again


def ray_trials(*ids_and_statuses: tuple[str, str]) -> list[Trial]:
    """Ray's restored trials, as its resume re-queued them."""
    trials = []
    for trial_id, status in ids_and_statuses:
        trial = Trial("__fake", stub=True, trial_id=trial_id)
        trial.set_status(status)
        trials.append(trial)
    return trials


def report(step: int, value: float, final: bool = False) -> dict:
    return {"step": step, "val_loss": value, "best_objective": value, "is_final": final}


def test_a_trial_the_newer_searcher_asked_for_and_ray_never_recorded_is_run(searcher,
                                                                            tmp_path):
    """CI's failure: Ray's trials from one snapshot, its count and searcher from the next,
    which had asked for trial b. Without settling, Ray's count (2) says both trials exist, Ray
    holds only a, and b stays running in Optuna forever: the sweep ends one trial short."""
    searcher.suggest("a")
    lost = searcher.suggest("b")
    snapshot = tmp_path / "searcher-state.pkl"
    searcher.save(str(snapshot))
    generator = SearchGenerator(restored(searcher, snapshot))
    generator._counter = 2  # the newer snapshot's count

    settle(generator, ray_trials(("a", Trial.PENDING)))
    assert generator._counter == 1  # so Ray creates the trial it lacks
    study = generator.searcher.study
    a, b, queued = study.trials
    assert a.state == TrialState.RUNNING and set(generator.searcher._live) == {"a"}
    assert b.state == TrialState.FAIL and told_outcome(b).kind == ORPHANED
    assert queued.state == TrialState.WAITING  # b's configuration, queued again
    again = generator.searcher.suggest("c")  # the next trial Ray creates trains it
    assert {k: again[k] for k in lost} == lost
    assert len(study.trials) == 3 and study.trials[-1].user_attrs[RAY_TRIAL_ATTR] == "c"


def test_a_trial_ray_recorded_that_the_older_searcher_never_knew_is_live(searcher, tmp_path):
    """The other mix: Ray's trials from the newer snapshot (a and b), its count and searcher
    from the older (a only). b is Ray's to run: live, told once when it ends, not orphaned,
    and no trial is created in its place."""
    searcher.suggest("a")
    snapshot = tmp_path / "searcher-state.pkl"
    searcher.save(str(snapshot))
    searcher.suggest("b")
    searcher.on_trial_result("b", report(4, 0.8))  # b reported once before the kill
    generator = SearchGenerator(restored(searcher, snapshot))
    generator._counter = 1

    settle(generator, ray_trials(("a", Trial.PENDING), ("b", Trial.PENDING)))
    assert generator._counter == 2
    resumed = generator.searcher
    assert set(resumed._live) == {"a", "b"}
    resumed.on_trial_result("b", report(4, 0.8))  # the step in flight, reported again
    resumed.on_trial_complete("b", report(8, 0.6, final=True))
    a, b = resumed.study.trials
    assert a.state == TrialState.RUNNING
    assert b.state == TrialState.COMPLETE and b.intermediate_values == {4: 0.8, 8: 0.6}
    assert len(resumed.study.trials) == 2  # nothing queued again


def test_ended_trials_hold_no_slot_and_are_not_heard_twice(searcher, tmp_path):
    """A trial told before the kill that Ray's snapshot still had running: Ray continues it
    from its final checkpoint, which repeats its last report; Optuna keeps what it was told.
    A trial Ray ended on a fault and continues (resume_errored) is live again."""
    searcher.set_max_concurrency(2)
    searcher.suggest("a")
    searcher.suggest("b")
    snapshot = tmp_path / "searcher-state.pkl"
    searcher.save(str(snapshot))
    searcher.on_trial_complete("a", report(8, 0.5, final=True))
    searcher.on_trial_complete("b", None, error=True)
    generator = SearchGenerator(restored(searcher, snapshot))
    generator._counter = 2

    settle(generator, ray_trials(("a", Trial.PENDING), ("b", Trial.PENDING)))
    resumed = generator.searcher
    assert set(resumed._live) == {"b"}
    resumed.on_trial_complete("a", report(8, 0.7, final=True))
    resumed.on_trial_complete("b", report(8, 0.4, final=True))
    a, b = resumed.study.trials
    assert a.state == TrialState.COMPLETE and a.value == 0.5
    assert b.state == TrialState.COMPLETE and b.value == 0.4
    assert resumed.suggest("c") is not None  # neither holds a slot now


def test_a_trial_ray_ended_stays_as_ray_left_it(searcher, tmp_path):
    """A trial Ray records as terminated but Optuna still has running (its tell lost with a
    torn journal) is Ray's and not re-run: neither live nor orphaned (the sweep's end tells
    what it can)."""
    searcher.suggest("a")
    snapshot = tmp_path / "searcher-state.pkl"
    searcher.save(str(snapshot))
    generator = SearchGenerator(restored(searcher, snapshot))
    generator._counter = 1

    settle(generator, ray_trials(("a", Trial.TERMINATED)))
    assert generator.searcher._live == {}
    assert [t.state for t in generator.searcher.study.trials] == [TrialState.RUNNING]
